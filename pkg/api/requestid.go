package api

import (
	"crypto/rand"

	"github.com/gin-gonic/gin"
)

// HeaderRequestID carries the request id in both directions, so a client's id shows up in our log.
const HeaderRequestID = "X-Request-Id"

const maxRequestIDLength = 128

// RequestID is the id of this request (the caller's if it was sane, else a fresh one). It is read back from the
// X-Request-Id response header the middleware sets first thing, rather than kept in c.Keys as well: storing it
// there cost three allocations per request (Gin's Keys map, its first group, the boxed string).
func RequestID(c *gin.Context) string {
	if v := c.Writer.Header()[HeaderRequestID]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(HeaderRequestID)
		if !saneRequestID(id) {
			id = rand.Text()
		}
		c.Writer.Header()[HeaderRequestID] = []string{id} // c.Header's Set, the key already canonical
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
