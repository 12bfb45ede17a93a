// Package redact removes sensitive values before anything is written: audit rows, logs, events
// and API responses. It masks the values of sensitive field names in structured data (Value),
// credentials in free text (String) and both in structured logs (Handler).
//
// A field name is sensitive when it is one of WellKnown or one of the caller's extra names
// (the schema-marked sensitive fields of a tool). Names compare after normalisation, so
// "apiKey", "api-key", "API_KEY" and "api_key" are the same name, and a name also matches
// every field ending in "_"+name, so "salary" covers "base_salary" and "password" covers
// "db_password".
package redact

import (
	"strings"
	"sync"
	"unicode"
)

// Mask replaces every redacted value.
const Mask = "[REDACTED]"

// WellKnown are the field names redacted everywhere, whatever the tool's schema says. They are
// credentials (which nobody should ever read back from a log or audit row) and the personal
// and financial data an HR or ERP system holds. Because a name also matches fields ending in
// "_"+name, the list stays short: "token" covers access_token, refresh_token, csrf_token and
// next_page_token alike; "secret" covers client_secret. The longer forms are listed anyway so
// the list reads as documentation. Plural or longer words are deliberately not matched:
// "max_tokens" and "total_tokens" (LLM usage counters) stay visible.
var WellKnown = []string{
	// Credentials.
	"password", "passwd", "pwd", "passphrase",
	"secret", "client_secret",
	"token", "access_token", "refresh_token", "id_token",
	"api_key", "apikey",
	"authorization", "cookie", "set_cookie",
	"private_key",
	// Personal data.
	"ssn", "social_security_number", "national_id", "tax_id",
	"salary",
	// Payment and banking.
	"credit_card", "card_number", "cvv", "cvc",
	"bank_account", "iban",
}

// matcher decides which field names are sensitive: WellKnown plus a call's extra names.
type matcher struct {
	names []string        // normalised names, matched exactly or as a "_"+name suffix
	set   map[string]bool // names and their squashed forms, for exact lookups
	paths [][]string      // normalised dotted paths ("employee.salary"), "*" matching any key
}

// matchers caches the matcher of each list of extra names: String and Value run on every
// stored message, event and audit row, and building a matcher costs far more than using it.
// The lists are the sensitive fields of configured tools, so the cache stays small.
var matchers sync.Map // strings.Join(extra, "\x00") → *matcher

// matcherFor returns the (shared, read-only) matcher of WellKnown plus extra.
func matcherFor(extra []string) *matcher {
	key := strings.Join(extra, "\x00")
	if m, ok := matchers.Load(key); ok {
		return m.(*matcher)
	}
	m, _ := matchers.LoadOrStore(key, newMatcher(extra))
	return m.(*matcher)
}

// newMatcher builds the matcher for WellKnown plus extra. An extra containing dots is a path:
// its last segment is the field and the others its enclosing keys.
func newMatcher(extra []string) *matcher {
	m := &matcher{set: make(map[string]bool, 2*(len(WellKnown)+len(extra)))}
	add := func(raw string) {
		var segs []string
		for _, s := range strings.Split(raw, ".") {
			s = strings.TrimSuffix(strings.TrimSpace(s), "[]")
			switch s {
			case "", "[]":
				continue
			case "*":
				segs = append(segs, "*")
			default:
				if n := normalize(s); n != "" {
					segs = append(segs, n)
				}
			}
		}
		switch {
		case len(segs) == 0:
		case len(segs) == 1 && segs[0] != "*":
			m.names = append(m.names, segs[0])
			m.set[segs[0]] = true
			m.set[squash(segs[0])] = true
		case len(segs) > 1 && segs[len(segs)-1] != "*":
			m.paths = append(m.paths, segs)
		}
	}
	for _, n := range WellKnown {
		add(n)
	}
	for _, n := range extra {
		add(n)
	}
	return m
}

// sensitive reports whether the field key, found under the enclosing (normalised) keys
// parents, must be masked.
func (m *matcher) sensitive(key string, parents []string) bool {
	k := normalize(key)
	if k == "" {
		return false
	}
	if m.nameMatch(k) {
		return true
	}
	for _, p := range m.paths {
		if sameName(p[len(p)-1], k) && suffixMatch(p[:len(p)-1], parents) {
			return true
		}
	}
	return false
}

// nameMatch reports whether the normalised key k is a sensitive name or ends with
// "_"+name.
func (m *matcher) nameMatch(k string) bool {
	if m.set[k] || m.set[squash(k)] {
		return true
	}
	for _, n := range m.names {
		if strings.HasSuffix(k, "_"+n) {
			return true
		}
	}
	return false
}

// suffixMatch reports whether the enclosing keys end with segs, so a path matches wherever
// its object sits: "employee.salary" also covers {"data": {"employee": {"salary": ...}}}.
func suffixMatch(segs, parents []string) bool {
	if len(segs) > len(parents) {
		return false
	}
	off := len(parents) - len(segs)
	for i, s := range segs {
		if s != "*" && !sameName(s, parents[off+i]) {
			return false
		}
	}
	return true
}

func sameName(a, b string) bool { return a == b || squash(a) == squash(b) }

// squash drops underscores, so "apikey" and "api_key" compare equal.
func squash(s string) string { return strings.ReplaceAll(s, "_", "") }

// normalize turns a field name in any naming style into lower snake case: "apiKey",
// "API_KEY", "api-key" and "Api Key" all become "api_key", and "IDToken" becomes "id_token".
func normalize(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	underscore := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
			b.WriteByte('_')
		}
	}
	for i, r := range rs {
		switch {
		case unicode.IsUpper(r):
			if i > 0 {
				prev := rs[i-1]
				nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
					underscore()
				}
			}
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			underscore()
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}
