package api

import (
	"crypto/rand"

	"github.com/gin-gonic/gin"
)

// HeaderRequestID carries the request id in both directions, so a client's id shows up in our log.
const HeaderRequestID = "X-Request-Id"

const (
	requestIDKey       = "tokencheck.request_id"
	maxRequestIDLength = 128
)

// RequestID is the id of this request (the caller's if it was sane, else a fresh one).
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(HeaderRequestID)
		if !saneRequestID(id) {
			id = rand.Text()
		}
		c.Set(requestIDKey, id)
		c.Header(HeaderRequestID, id)
	}
}

// saneRequestID accepts ids that cannot forge log lines or headers: short, and only URL-safe punctuation.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '-', b == '_', b == '.', b == ':':
		default:
			return false
		}
	}
	return true
}
