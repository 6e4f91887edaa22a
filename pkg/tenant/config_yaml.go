package tenant

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlError turns the decoder's "line N: ..." messages into "name:N: field: ..." lines, like validation errors.
func yamlError(name string, doc *yaml.Node, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, m := range te.Errors {
		rest, ok := strings.CutPrefix(m, "line ")
		n, msg, _ := strings.Cut(rest, ": ")
		line, aerr := strconv.Atoi(n)
		if !ok || aerr != nil {
			msgs = append(msgs, name+": "+m)
			continue
		}
		if field, _, found := strings.Cut(strings.TrimPrefix(msg, "field "), " not found in type"); found {
			msg = fmt.Sprintf("unknown field %q; see the built-in default for the schema", field)
		}
		if path := pathAtLine(doc, line); len(path) > 0 {
			msg = fieldName(path) + ": " + msg
		}
		msgs = append(msgs, fmt.Sprintf("%s:%d: %s", name, line, msg))
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// pathAtLine is the path of the first mapping key or sequence item that starts on line, for naming a field.
func pathAtLine(n *yaml.Node, line int) []any {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Line == line {
				return []any{k.Value}
			}
			if sub := pathAtLine(v, line); sub != nil {
				return append([]any{k.Value}, sub...)
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if sub := pathAtLine(item, line); sub != nil {
				return append([]any{i}, sub...)
			}
			if item.Line == line {
				return []any{i}
			}
		}
	}
	return nil
}

// fieldName writes a path as clients[1].grants[https://quickstarts/api][0].
func fieldName(path []any) string {
	var b strings.Builder
	inMap := false
	for i, p := range path {
		switch v := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(v) + "]")
		case string:
			switch {
			case inMap:
				b.WriteString("[" + v + "]")
				inMap = false
				continue
			case i > 0:
				b.WriteString(".")
			}
			b.WriteString(v)
			inMap = v == "grants" || (v == "scopes" && i > 0 && path[0] == "users")
		}
	}
	return b.String()
}

// locate finds the line of the YAML node at path, or of its deepest existing ancestor; 0 without a document.
func locate(doc *yaml.Node, path []any) int {
	if doc == nil {
		return 0
	}
	n, line := doc, doc.Line
	for _, p := range path {
		switch v := p.(type) {
		case string:
			key, val := lookupKV(n, v)
			if key == nil {
				return line
			}
			n, line = val, key.Line
		case int:
			if n.Kind != yaml.SequenceNode || v >= len(n.Content) {
				return line
			}
			n = n.Content[v]
			line = n.Line
		}
	}
	return line
}

// lookup returns the value under key in a mapping node, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	_, v := lookupKV(n, key)
	return v
}

func lookupKV(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}
