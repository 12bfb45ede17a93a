package redact_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"mcp-platform/internal/redact"
)

func TestString(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbm4iLCJyb2xlcyI6WyJociJdfQ.dGhpc2lzYXNpZ25hdHVyZQ"
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"OK plain text unchanged", "employee E001 not found (status=404, took 12ms)", "employee E001 not found (status=404, took 12ms)"},
		{"OK empty", "", ""},
		{"OK bearer token", "sent Bearer abc.def-ghi_jkl= to backend", "sent Bearer " + m + " to backend"},
		{"OK basic credentials", "basic dXNlcjpwYXNz", "basic " + m},
		{"OK authorization header", "Authorization: Bearer abc123", "Authorization: " + m},
		{"OK bare JWT", "token was " + jwt + ".", "token was " + m + "."},
		{"OK postgres URL password", "dial postgres://app:s3cr3t@db:5432/app?sslmode=disable failed", "dial postgres://app:" + m + "@db:5432/app?sslmode=disable failed"},
		{"OK other scheme URL password", "redis://:pw@cache:6379/0", "redis://:" + m + "@cache:6379/0"},
		{"OK URL without password unchanged", "https://user@example.com:8443/path", "https://user@example.com:8443/path"},
		{"OK key=value", "login failed user=ann password=hunter2 retry=1", "login failed user=ann password=" + m + " retry=1"},
		{"OK key: value and styles", "apiKey: abc, DB_PASSWORD=xyz; x-api-key=k", "apiKey: " + m + ", DB_PASSWORD=" + m + "; x-api-key=" + m},
		{"OK JSON pairs keep quotes", `{"user":"ann","password":"hun ter\"2","salary": 5000,"ok":true}`, `{"user":"ann","password":"` + m + `","salary": ` + m + `,"ok":true}`},
		{"OK single quotes", `{'secret': 'x y z'}`, `{'secret': '` + m + `'}`},
		{"OK credential in words", "my password is hunter2, the API key was sk-abc123", "my password is " + m + ", the API key was " + m},
		{"OK words about credentials unchanged", "reset my password please", "reset my password please"},
		{"OK JSON inside a JSON string", `{"body":"{\"token\":\"abc\",\"n\":1}"}`, `{"body":"{\"token\":\"` + m + `\",\"n\":1}"}`},
		{"OK sensitive pair inside a quoted value", `note="password=x"`, `note="password=` + m + `"`},
		{"OK query string", "GET /cb?code=1&access_token=abc&state=2", "GET /cb?code=1&access_token=" + m + "&state=2"},
		{"OK URL with token in query", "https://api.example.com/v1?token=abc&x=1", "https://api.example.com/v1?token=" + m + "&x=1"},
		{"OK PEM private key", "key: -----BEGIN RSA PRIVATE KEY-----\nMIIE\nabc\n-----END RSA PRIVATE KEY----- done", "key: " + m + " done"},
		{"OK max_tokens is not a token", "max_tokens=512 total_tokens=9", "max_tokens=512 total_tokens=9"},
		{"OK idempotent", "password=" + m + " Bearer " + m, "password=" + m + " Bearer " + m},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redact.String(tt.in)
			require.Equal(t, tt.want, got)
		})
	}
}

// BenchmarkString measures the redaction of text as the hot paths meet it: a streamed answer's
// delta, an ID, and a tool result's JSON with a key/value pair.
func BenchmarkString(b *testing.B) {
	for _, c := range []struct{ name, text string }{
		{"prose", "Ann Smith (E001) works in Engineering as a senior developer since 2021."},
		{"id", "chat-0c4c1d5e-3b2a-4c1d-9e8f-0123456789ab-1"},
		{"json", `{"id":"E001","name":"Ann Smith","department":"Engineering","manager":"E007"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = redact.String(c.text)
			}
		})
	}
}
