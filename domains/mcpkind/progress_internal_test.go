package mcpkind

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// chunked reads s a few bytes at a time, as a network does.
type chunked struct {
	s    string
	size int
}

func (c *chunked) Read(b []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	n := copy(b[:min(len(b), c.size)], c.s)
	c.s = c.s[n:]
	return n, nil
}

func TestSSEProgressTap(t *testing.T) {
	stream := "event: message\r\nid: 1\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"t1\",\"progress\":1,\"total\":2}}\r\n\r\n" +
		"data: " + strings.Repeat("x", maxSSELine+10) + "notifications/progress\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"data\":\"notifications/progress\"}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"t1\",\"progress\":2,\"total\":2}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"notifications/progress\"}]}}\n\n"
	for _, size := range []int{1, 7, 4096} {
		var got []string
		tap := &sseProgressTap{ReadCloser: io.NopCloser(&chunked{s: stream, size: size}), notify: func(p json.RawMessage) { got = append(got, string(p)) }}
		all, err := io.ReadAll(tap)
		require.NoError(t, err)
		require.Equal(t, stream, string(all), "the SDK reads the stream unchanged")
		require.Equal(t, []string{`{"progressToken":"t1","progress":1,"total":2}`, `{"progressToken":"t1","progress":2,"total":2}`}, got,
			"only progress notifications, each once, in order (chunks of %d bytes)", size)
	}
}
