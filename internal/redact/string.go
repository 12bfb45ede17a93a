package redact

import (
	"regexp"
	"strings"
)

var (
	// pemKeyRE matches a PEM private key block.
	pemKeyRE = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----`)
	// urlPassRE matches the user:password@ part of a URL of any scheme (postgres, redis, amqp,
	// https...); group 1 is everything before the password.
	urlPassRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*):[^\s@/]*@`)
	// authSchemeRE matches the credentials of an HTTP Authorization value.
	authSchemeRE = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9\-._~+/]+=*`)
	// jwtRE matches a JSON Web Token: three base64url segments, the header starting with eyJ
	// (the encoding of `{"`). The signature may be empty (alg "none").
	jwtRE = regexp.MustCompile(`\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*`)
	// kvRE matches a key and its value in key=value, key: value, "key": "value" and
	// \"key\": \"value\" (JSON inside a JSON string). Groups: 1 opening quote, 2 key,
	// 3 closing quote, 4 separator, 5 value (an optional auth scheme, then a quoted or bare
	// value).
	kvRE = regexp.MustCompile(`(\\?["']?)([A-Za-z_][A-Za-z0-9_.\-]*)(\\?["']?)(\s*[:=]\s*)` +
		`((?i:(?:bearer|basic)\s+)?(?:` + regexp.QuoteMeta(Mask) +
		`|"(?:[^"\\]|\\.)*"` +
		`|'[^'\\]*'` +
		`|\\"(?:[^"\\]|\\[^"])*\\"` +
		`|[^\s,;&"'}\])]+))`)
)

// String redacts credentials and sensitive values in free text such as log messages and error
// texts:
//   - "Bearer <token>" and "Basic <credentials>" become "Bearer [REDACTED]";
//   - JSON Web Tokens (three base64url segments starting with eyJ) become [REDACTED];
//   - the password of a URL ("postgres://app:s3cret@db/app") becomes [REDACTED];
//   - PEM private key blocks become [REDACTED];
//   - in key=value, key: value and "key": "value" pairs whose key is sensitive (WellKnown,
//     in any naming style), the value becomes [REDACTED], keeping its quotes;
//   - a credential told in words ("my password is hunter2") keeps its words, not its value.
//
// Text without any of these comes back unchanged.
func String(s string) string {
	return matcherFor(nil).text(s)
}

// text is String with the matcher's names (WellKnown plus extra) deciding which keys are
// sensitive.
func (m *matcher) text(s string) string {
	if s == "" {
		return s
	}
	// Each pattern is tried only when the text holds what it cannot match without: most text
	// (IDs, names, prose) holds none of it, and a regexp scan is far dearer than a substring
	// check.
	lower := strings.ToLower(s)
	if strings.Contains(s, "-----BEGIN ") {
		s = pemKeyRE.ReplaceAllLiteralString(s, Mask)
	}
	if strings.Contains(s, "://") && strings.Contains(s, "@") {
		s = urlPassRE.ReplaceAllString(s, "${1}:"+Mask+"@")
	}
	if strings.Contains(lower, "bearer") || strings.Contains(lower, "basic") {
		s = authSchemeRE.ReplaceAllString(s, "${1}${2}"+Mask)
	}
	if strings.Contains(s, "eyJ") {
		s = jwtRE.ReplaceAllLiteralString(s, Mask)
	}
	if containsAny(lower, proseWords) {
		s = proseRE.ReplaceAllString(s, "${1}${2}"+Mask)
	}
	if !strings.ContainsAny(s, ":=") {
		return s // no key/value pair
	}
	return m.pairs(s)
}

// proseWords are what every match of proseRE contains (lower-case).
var proseWords = []string{"pass", "pin", "secret", "token", "key"}

// containsAny reports whether s contains any of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// proseRE finds a credential told in words, as people type it into a chat: "my password is
// hunter2", "the API key was sk-…".
var proseRE = regexp.MustCompile(`(?i)\b((?:password|passwd|passphrase|pin|secret|token|api[ _-]?key|access[ _-]?key)\s+)((?:is|was|=|:)\s+)\S*[^\s.,;:!?)'"]`)

// pairs masks the values of sensitive keys in key/value pairs. The value of a key that is not
// sensitive is scanned in turn, so `note="password=x"` is caught too.
func (m *matcher) pairs(s string) string {
	idx := kvRE.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, g := range idx {
		b.WriteString(s[last:g[0]])
		// Everything up to the value: quotes, key, separator.
		b.WriteString(s[g[0]:g[10]])
		key, val := s[g[4]:g[5]], s[g[10]:g[11]]
		if m.nameMatch(normalize(key)) {
			b.WriteString(maskKeepingQuotes(val))
		} else {
			b.WriteString(m.pairs(val))
		}
		last = g[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// maskKeepingQuotes replaces a value by Mask inside the same quotes, so redacted JSON stays
// JSON.
func maskKeepingQuotes(val string) string {
	switch {
	case strings.HasPrefix(val, `\"`):
		return `\"` + Mask + `\"`
	case strings.HasPrefix(val, `"`):
		return `"` + Mask + `"`
	case strings.HasPrefix(val, `'`):
		return `'` + Mask + `'`
	default:
		return Mask
	}
}
