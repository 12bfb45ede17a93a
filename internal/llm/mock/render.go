package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The mock writes its answers from tool results with these helpers. They render whatever JSON
// a tool returned, helped only by the field names of the hints, and never add a value that is
// not in the result.

// Hints say how results read best by naming their fields. Every field is optional: without a
// demo's hints a result still renders, with the names most systems use (name, id, title,
// status, total, currency, ...) and then its other fields in alphabetical order. The lists of
// all demos are merged, each keeping its own order, and apply to every result.
type Hints struct {
	// NameKeys can head an object: its name, in bold. The first one present wins.
	NameKeys []string
	// IDKeys identify an object, shown next to its name. The first one present wins.
	IDKeys []string
	// FieldOrder puts the fields people look for first; the others follow alphabetically.
	FieldOrder []string
	// ColumnOrder chooses and orders the columns of tables; other columns follow
	// alphabetically while there is room.
	ColumnOrder []string
	// MoneyKeys hold amounts, shown with two decimals and the currency of their object.
	MoneyKeys []string
	// Labels spell words of field names that are not written as plain words, such as
	// "sku": "SKU"; the other words are capitalised as a sentence.
	Labels map[string]string
}

// genericHints are the field names most systems use, whatever the domain.
var genericHints = Hints{
	NameKeys:    []string{"name", "full_name", "display_name", "title_name"},
	IDKeys:      []string{"id"},
	FieldOrder:  []string{"title", "status", "email", "phone", "location", "total", "currency"},
	ColumnOrder: []string{"id", "name", "full_name", "title", "description", "status", "total", "location", "email"},
	MoneyKeys:   []string{"total", "subtotal", "tax", "amount", "price", "balance"},
	Labels:      map[string]string{"id": "ID", "url": "URL", "ip": "IP", "api": "API", "no": "No."},
}

// countKeys describe a list next to them and are folded into its heading.
var countKeys = map[string]bool{"count": true, "total_matches": true, "total_count": true}

const (
	maxRows    = 25
	maxColumns = 7
)

// renderer writes answers from tool results with the merged hints of the demos.
type renderer struct {
	nameKeys, idKeys, fieldOrder, columnOrder []string
	moneyKeys                                 map[string]bool
	labels                                    map[string]string
}

// newRenderer merges hints: the lists keep the order of each (a field listed by several keeps
// its first place), the sets are joined, and an earlier label wins.
func newRenderer(hints ...Hints) *renderer {
	r := &renderer{moneyKeys: map[string]bool{}, labels: map[string]string{}}
	var names, ids, fields, columns [][]string
	for _, h := range hints {
		names, ids = append(names, h.NameKeys), append(ids, h.IDKeys)
		fields, columns = append(fields, h.FieldOrder), append(columns, h.ColumnOrder)
		for _, k := range h.MoneyKeys {
			r.moneyKeys[k] = true
		}
		for word, spelling := range h.Labels {
			if _, set := r.labels[word]; !set {
				r.labels[word] = spelling
			}
		}
	}
	r.nameKeys, r.idKeys = mergeOrders(names), mergeOrders(ids)
	r.fieldOrder, r.columnOrder = mergeOrders(fields), mergeOrders(columns)
	return r
}

// mergeOrders merges ordered lists into one that keeps the order of each: a name new to the
// merged list goes right after the name before it in its own list, or, first in its list,
// before the earliest of its list's later names already placed. A list that contradicts the
// names placed before it keeps their order.
func mergeOrders(lists [][]string) []string {
	var out []string
	for _, list := range lists {
		for i, k := range list {
			if slices.Contains(out, k) {
				continue
			}
			at := len(out)
			if i > 0 {
				at = slices.Index(out, list[i-1]) + 1
			} else {
				for _, later := range list[1:] {
					if j := slices.Index(out, later); j >= 0 && j < at {
						at = j
					}
				}
			}
			out = slices.Insert(out, at, k)
		}
	}
	return out
}

// result explains the result of one call of tool: its data, or its error in plain words.
func (r *renderer) result(tool, content string) string {
	text := strings.TrimSpace(content)
	if len(text) >= 6 && strings.EqualFold(text[:6], "error:") {
		return explainError(tool, "", strings.TrimSpace(text[6:]), nil)
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if text == "" {
			return tool + " returned nothing."
		}
		return tool + " returned:\n\n" + text
	}
	if obj, ok := v.(map[string]any); ok {
		if msg, typ, isErr := toolError(obj); isErr {
			return explainError(tool, typ, msg, obj)
		}
		return r.object(obj)
	}
	if list, ok := v.([]any); ok {
		return r.list("results", list, "", "")
	}
	if v == nil {
		return tool + " returned no data."
	}
	return tool + " returned " + r.scalar("", v, "") + "."
}

// toolError recognises the error form of a tool result: {"error": "...", "type": "..."}, or
// an error object with a message.
func toolError(obj map[string]any) (msg, typ string, ok bool) {
	e, present := obj["error"]
	if !present || e == nil {
		return "", "", false
	}
	typ, _ = obj["type"].(string)
	switch e := e.(type) {
	case string:
		return e, typ, true
	case map[string]any:
		msg, _ = e["message"].(string)
		if t, _ := e["type"].(string); t != "" && typ == "" {
			typ = t
		}
		if c, _ := e["code"].(string); c != "" && typ == "" {
			typ = c
		}
		return msg, typ, true
	case bool:
		msg, _ = obj["message"].(string)
		return msg, typ, e
	default:
		return fmt.Sprint(e), typ, true
	}
}

// explainError says in plain words why a tool call did not give a result.
func explainError(tool, typ, msg string, obj map[string]any) string {
	msg = strings.TrimRight(strings.TrimSpace(msg), ".")
	lower := strings.ToLower(msg)
	detail := "" // the message after a colon, if any
	if msg != "" {
		detail = ": " + msg
	}
	if typ == "" { // plain "Error: ..." text: guess the kind from the words
		switch {
		case strings.Contains(lower, "not allowed") || strings.Contains(lower, "permission") || strings.Contains(lower, "denied"):
			typ = "denied"
		case strings.Contains(lower, "rejected"):
			typ = "rejected"
		case strings.Contains(lower, "expired"):
			typ = "expired"
		}
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if s, _ := obj[k].(string); s != "" {
				return s
			}
		}
		return ""
	}
	switch strings.ToLower(typ) {
	case "denied", "forbidden", "permission_denied", "unauthorized":
		if msg == "" {
			msg = "you are not allowed to use " + tool
		}
		return "I couldn't do that: " + msg + "."
	case "rejected":
		approver, reason := str("approver", "rejected_by", "decided_by"), str("reason", "comment")
		var s string
		switch {
		case strings.HasPrefix(lower, "the request was rejected"):
			s = capitalize(msg)
		case strings.HasPrefix(lower, "rejected"):
			s = "The request was " + msg
		default:
			s = "The request to use " + tool + " was rejected"
			if approver != "" && !strings.Contains(msg, approver) {
				s += " by " + approver
			}
			if msg != "" {
				s += ": " + msg
			}
		}
		if reason != "" && !strings.Contains(s, reason) {
			s += " (" + strings.TrimRight(reason, ".") + ")"
		}
		return s + ". " + tool + " did not run."
	case "expired", "approval_expired":
		s := "The approval request for " + tool + " expired before anyone decided, so it did not run"
		if msg != "" {
			s += " (" + msg + ")"
		}
		return s + "."
	case "not_found":
		return "I couldn't find that: " + orDefault(msg, tool+" found nothing") + "."
	case "invalid", "invalid_argument", "bad_request":
		return "I couldn't run " + tool + " because the request was not valid: " + orDefault(msg, "no details given") + "."
	case "conflict":
		return tool + " could not be done right now: " + orDefault(msg, "it conflicts with the current state") + "."
	case "unavailable", "timeout":
		return tool + " is unavailable right now" + detail + ". Please try again later."
	default:
		return tool + " failed" + detail + "."
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// object shows an object: a bold heading from its name and ID, a bullet per field, and a
// table per list of objects.
func (r *renderer) object(obj map[string]any) string {
	var b strings.Builder
	skip := map[string]bool{}
	name, nameKey := firstString(obj, r.nameKeys)
	id, idKey := firstString(obj, r.idKeys)
	switch {
	case name != "" && id != "" && id != name:
		fmt.Fprintf(&b, "**%s** (%s)\n\n", name, id)
		skip[nameKey], skip[idKey] = true, true
	case name != "":
		fmt.Fprintf(&b, "**%s**\n\n", name)
		skip[nameKey] = true
	case id != "":
		fmt.Fprintf(&b, "**%s**\n\n", id)
		skip[idKey] = true
	}
	if name != "" {
		skip["first_name"], skip["last_name"] = true, true
	}
	for k := range obj {
		// department_id next to department, customer_id next to customer_name: the name says it.
		if base, ok := strings.CutSuffix(k, "_id"); ok && (has(obj, base) || has(obj, base+"_name")) {
			skip[k] = true
		}
		// Amounts carry their currency already.
		if r.moneyKeys[k] {
			skip["currency"] = true
		}
	}
	currency, _ := obj["currency"].(string)

	var bullets, tables []string
	for _, k := range orderedKeys(obj, r.fieldOrder) {
		if skip[k] || countKeys[k] {
			continue
		}
		switch v := obj[k].(type) {
		case []any:
			if isObjectList(v) || len(v) == 0 {
				tables = append(tables, r.list(k, v, countNote(obj, len(v)), currency))
			} else {
				tables = append(tables, r.scalars(k, v))
			}
		case map[string]any:
			bullets = append(bullets, fmt.Sprintf("- %s: %s", r.label(k), r.summary(v, currency)))
		default:
			bullets = append(bullets, fmt.Sprintf("- %s: %s", r.label(k), r.scalar(k, v, currency)))
		}
	}
	if len(bullets) > 0 {
		b.WriteString(strings.Join(bullets, "\n"))
		b.WriteString("\n\n")
	}
	for _, t := range tables {
		b.WriteString(t)
		b.WriteString("\n\n")
	}
	if b.Len() == 0 {
		return "The result was empty."
	}
	return strings.TrimSpace(b.String())
}

// countNote reads the count fields that describe the list next to them.
func countNote(obj map[string]any, shown int) string {
	total, ok := obj["total_matches"].(json.Number)
	if !ok {
		total, ok = obj["total_count"].(json.Number)
	}
	if n, err := total.Int64(); ok && err == nil && int(n) > shown {
		return fmt.Sprintf("showing %d of %s", shown, total)
	}
	return ""
}

// list shows a list of objects as a Markdown table.
func (r *renderer) list(key string, list []any, note, currency string) string {
	title := r.label(key)
	if len(list) == 0 {
		return "No " + strings.ToLower(title) + " found."
	}
	heading := fmt.Sprintf("**%s** (%d):", title, len(list))
	if note != "" {
		heading = fmt.Sprintf("**%s** (%s):", title, note)
	}
	if !isObjectList(list) {
		return heading + "\n\n" + r.scalars(key, list)
	}
	cols := r.columns(list)
	var b strings.Builder
	b.WriteString(heading + "\n\n|")
	for _, c := range cols {
		b.WriteString(" " + r.label(c) + " |")
	}
	b.WriteString("\n|")
	for range cols {
		b.WriteString(" --- |")
	}
	for i, row := range list {
		if i == maxRows {
			fmt.Fprintf(&b, "\n\n…and %d more.", len(list)-maxRows)
			break
		}
		obj, _ := row.(map[string]any)
		cur := currency
		if c, ok := obj["currency"].(string); ok {
			cur = c
		}
		b.WriteString("\n|")
		for _, c := range cols {
			cell := ""
			switch v := obj[c].(type) {
			case nil:
				if _, present := obj[c]; present {
					cell = "none"
				}
			case map[string]any:
				cell = r.summary(v, cur)
			case []any:
				cell = r.joinScalars(v)
			default:
				cell = r.scalar(c, v, cur)
			}
			b.WriteString(" " + strings.ReplaceAll(strings.ReplaceAll(cell, "|", "\\|"), "\n", " ") + " |")
		}
	}
	return b.String()
}

// columns picks the table columns: known ones first, then the others, at most maxColumns.
func (r *renderer) columns(list []any) []string {
	keys := map[string]any{}
	for _, row := range list {
		if obj, ok := row.(map[string]any); ok {
			for k, v := range obj {
				if _, seen := keys[k]; !seen || keys[k] == nil {
					keys[k] = v
				}
			}
		}
	}
	var cols []string
	for _, k := range orderedKeys(keys, r.columnOrder) {
		if len(cols) == maxColumns {
			break
		}
		if base, ok := strings.CutSuffix(k, "_id"); ok {
			if _, named := keys[base]; named {
				continue
			}
			if _, named := keys[base+"_name"]; named {
				continue
			}
		}
		if k == "currency" || (!contains(r.columnOrder, k) && isComplex(keys[k])) {
			continue
		}
		cols = append(cols, k)
	}
	return cols
}

func has(obj map[string]any, key string) bool {
	_, ok := obj[key]
	return ok
}

func isComplex(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

func isObjectList(list []any) bool {
	for _, v := range list {
		if _, ok := v.(map[string]any); !ok {
			return false
		}
	}
	return len(list) > 0
}

// scalars shows a list of plain values: inline when short, else one per line in a code block
// (log lines).
func (r *renderer) scalars(key string, list []any) string {
	joined := r.joinScalars(list)
	if len(list) <= 10 && len(joined) <= 200 && !strings.Contains(joined, "\n") {
		return fmt.Sprintf("- %s: %s", r.label(key), joined)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (%d):\n\n```\n", r.label(key), len(list))
	for _, v := range list {
		b.WriteString(r.scalar("", v, ""))
		b.WriteString("\n")
	}
	b.WriteString("```")
	return b.String()
}

func (r *renderer) joinScalars(list []any) string {
	parts := make([]string, 0, len(list))
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			parts = append(parts, r.summary(m, ""))
			continue
		}
		parts = append(parts, r.scalar("", v, ""))
	}
	return strings.Join(parts, ", ")
}

// summary shows a nested object in one line: "Name (ID), title", or its first few fields.
func (r *renderer) summary(obj map[string]any, currency string) string {
	name, _ := firstString(obj, r.nameKeys)
	id, _ := firstString(obj, r.idKeys)
	var s string
	switch {
	case name != "" && id != "" && id != name:
		s = name + " (" + id + ")"
	case name != "":
		s = name
	case id != "":
		s = id
	}
	if s != "" {
		if t, ok := obj["title"].(string); ok && t != "" && t != name {
			s += ", " + t
		}
		return s
	}
	var parts []string
	for _, k := range orderedKeys(obj, r.fieldOrder) {
		if len(parts) == 4 {
			break
		}
		if !isComplex(obj[k]) {
			parts = append(parts, r.label(k)+": "+r.scalar(k, obj[k], currency))
		}
	}
	if len(parts) == 0 {
		return "(details)"
	}
	return strings.Join(parts, ", ")
}

// scalar writes a plain value; amounts get two decimals and the currency.
func (r *renderer) scalar(key string, v any, currency string) string {
	switch v := v.(type) {
	case nil:
		return "none"
	case string:
		if v == "" {
			return "(empty)"
		}
		return v
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case json.Number:
		if r.moneyKeys[key] {
			if f, err := v.Float64(); err == nil {
				s := strconv.FormatFloat(f, 'f', 2, 64)
				if currency != "" {
					s += " " + currency
				}
				return s
			}
		}
		return v.String()
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

func firstString(obj map[string]any, keys []string) (value, key string) {
	for _, k := range keys {
		if s, ok := obj[k].(string); ok && s != "" {
			return s, k
		}
	}
	return "", ""
}

// orderedKeys lists the keys of obj: those in order first, in that order, then the rest
// alphabetically.
func orderedKeys[V any](obj map[string]V, order []string) []string {
	out := make([]string, 0, len(obj))
	for _, k := range order {
		if _, ok := obj[k]; ok {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range obj {
		if !contains(order, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// label turns a field name into words: "ready_replicas" → "Ready replicas", "manager_id" →
// "Manager ID".
func (r *renderer) label(key string) string {
	words := strings.Fields(strings.NewReplacer("_", " ", "-", " ").Replace(key))
	if len(words) == 0 {
		return "Value"
	}
	for i, w := range words {
		if a, ok := r.labels[strings.ToLower(w)]; ok {
			words[i] = a
		}
	}
	return capitalize(strings.Join(words, " "))
}

// canonicalJSON encodes arguments deterministically (map keys sorted).
func canonicalJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "{}"
	}
	return strings.TrimSpace(buf.String())
}
