package temporalx

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

// TestClientOptionsCompression: a client of a loopback frontend sends uncompressed (gzip only
// burns CPU on a local socket, and encrypted payloads do not compress); any other frontend
// gets the SDK's default, gzip.
func TestClientOptionsCompression(t *testing.T) {
	codec := &Codec{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, addr := range []string{"127.0.0.1:7233", "localhost:7233", "[::1]:7233", "127.0.0.53:7233"} {
		opts := ClientOptions(addr, "default", codec, logger)
		require.IsType(t, &client.GrpcCompressionNone{}, opts.ConnectionOptions.GrpcCompression, addr)
	}
	for _, addr := range []string{"temporal:7233", "10.0.0.5:7233", "temporal.example.com:443", "not-an-address"} {
		opts := ClientOptions(addr, "default", codec, logger)
		require.Nil(t, opts.ConnectionOptions.GrpcCompression, addr)
	}
}
