package lualib

// This file is lsgi.template's fast path. html/template spends most of a
// render in reflection: each action's value is looked up in a map through
// reflect, and each escaper is called through reflect.Value.Call. Most
// pages are text with values substituted in HTML text, RCDATA (<title>) and
// quoted attributes, from a flat table of strings and numbers. For those,
// the template html/template has escaped (its parse tree, with an escaper
// named after each action) is compiled once into a list of text pieces and
// fields, and rendered straight from the Lua table: no conversion of the
// data to Go maps, no reflection, the same bytes.
//
// Anything else (conditions, loops, nested templates, other contexts such
// as URLs and scripts, nested data, data html/template would refuse) takes
// html/template's own path, so the fast path never has to be right about a
// case it was not built for. TestFastTemplateMatches holds both paths to
// the same output.

import (
	"fmt"
	"html/template"
	"strconv"
	"text/template/parse"

	lua "github.com/yuin/gopher-lua"
)

// fastPart is one piece of a compiled template: literal text, or the
// escaped value of a top-level field.
type fastPart struct {
	text  string
	field string // "" for text
}

// fastTemplate is a template compiled for the fast path.
type fastTemplate struct {
	parts []fastPart
}

// textEscapers are the escapers html/template puts after an action in HTML
// text, RCDATA and quoted attribute values: for a value that is not one of
// its typed contents (and Lua data never is), all three replace the same
// characters (htmlReplacementTable in html/template/html.go).
var textEscapers = map[string]bool{
	"_html_template_htmlescaper":   true,
	"_html_template_rcdataescaper": true,
	"_html_template_attrescaper":   true,
}

// compileFast compiles t, which html/template has escaped (it has run
// once), or returns nil when t has a shape the fast path does not take.
func compileFast(t *template.Template) *fastTemplate {
	if t == nil || t.Tree == nil || t.Tree.Root == nil || len(t.Templates()) != 1 {
		return nil
	}
	f := &fastTemplate{}
	for _, n := range t.Tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			f.parts = append(f.parts, fastPart{text: string(n.Text)})
		case *parse.ActionNode:
			field, ok := fastField(n.Pipe)
			if !ok {
				return nil
			}
			f.parts = append(f.parts, fastPart{field: field})
		default:
			return nil
		}
	}
	return f
}

// fastField recognizes {{.name}} followed by one text escaper.
func fastField(p *parse.PipeNode) (string, bool) {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 2 {
		return "", false
	}
	first, esc := p.Cmds[0], p.Cmds[1]
	if len(first.Args) != 1 || len(esc.Args) != 1 {
		return "", false
	}
	field, ok := first.Args[0].(*parse.FieldNode)
	if !ok || len(field.Ident) != 1 {
		return "", false
	}
	id, ok := esc.Args[0].(*parse.IdentifierNode)
	if !ok || !textEscapers[id.Ident] {
		return "", false
	}
	return field.Ident[0], true
}

// fastData reports whether data can be rendered on the fast path: a table
// whose keys are all strings and whose values are strings, numbers,
// booleans or json.null, few enough for the data-nodes limit (toGo would
// make a map of them, which html/template would read the same way).
func fastData(data lua.LValue, maxNodes int64) (*lua.LTable, bool) {
	t, ok := data.(*lua.LTable)
	if !ok || t.Metatable != lua.LNil {
		return nil, false
	}
	n := int64(1)
	simple := true
	t.ForEach(func(k, v lua.LValue) {
		n++
		if _, ok := k.(lua.LString); !ok {
			simple = false
			return
		}
		switch v := v.(type) {
		case lua.LString, lua.LNumber, lua.LBool:
		case *lua.LUserData:
			if _, ok := v.Value.(jsonNull); !ok {
				simple = false
			}
		default:
			simple = false
		}
	})
	return t, simple && n <= maxNodes
}

// render writes the template with data's fields into w.
func (f *fastTemplate) render(w *limitedBuffer, data *lua.LTable) error {
	var scratch [32]byte
	for _, p := range f.parts {
		if p.field == "" {
			if _, err := w.Write([]byte(p.text)); err != nil {
				return err
			}
			continue
		}
		var s []byte
		switch v := data.RawGetString(p.field).(type) {
		case lua.LString:
			s = appendEscaped(scratch[:0], string(v))
		case lua.LNumber:
			s = appendNumber(scratch[:0], float64(v))
		case lua.LBool:
			s = strconv.AppendBool(scratch[:0], bool(v))
		default: // absent, or json.null: html/template prints nothing
			continue
		}
		if _, err := w.Write(s); err != nil {
			return err
		}
	}
	return nil
}

// appendEscaped appends s with html/template's text escaping: NUL, '"',
// '&', '\”, '+', '<' and '>' replaced, every other byte kept.
func appendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, repl...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// appendNumber appends a number as toGo hands it to html/template: an
// integer (int64) when it is one, else a float64 printed as fmt's %v does,
// then escaped (an exponent has a '+').
func appendNumber(b []byte, f float64) []byte {
	if n, ok := goNumber(f).(int64); ok {
		return strconv.AppendInt(b, n, 10)
	}
	return appendEscaped(b, fmt.Sprint(f))
}
