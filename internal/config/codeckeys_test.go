package config

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testCodecKeys is a valid TEMPORAL_CODEC_KEYS for production settings in tests.
const testCodecKeys = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func TestParseCodecKeys(t *testing.T) {
	key := func(b byte) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(b), 32))) }
	secret := strings.Repeat("s", 32)

	t.Run("OK first encrypts, all listed", func(t *testing.T) {
		got, err := ParseCodecKeys(" new:"+key('s')+" , old:"+strings.TrimRight(base64.URLEncoding.EncodeToString([]byte(strings.Repeat("o", 32))), "="), "temporal.codec_keys")
		require.NoError(t, err)
		require.Equal(t, []CodecKey{{ID: "new", Secret: []byte(secret)}, {ID: "old", Secret: []byte(strings.Repeat("o", 32))}}, got)
	})
	t.Run("OK empty is none", func(t *testing.T) {
		got, err := ParseCodecKeys("  ", "temporal.codec_keys")
		require.NoError(t, err)
		require.Nil(t, got)
	})

	tests := []struct {
		name, in, want string
	}{
		{"ErrNoID", key('a'), "entry 1 has no \"id:\""},
		{"ErrEmptyEntry", "a:" + key('a') + ",", "entry 2 is empty"},
		{"ErrBadID", "a b:" + key('a'), `key ID "a b"`},
		{"ErrDuplicateID", "a:" + key('a') + ",a:" + key('b'), `key "a" is listed twice`},
		{"ErrNotBase64", "a:!!!", `key "a" is not base64`},
		{"ErrShortKey", "a:" + base64.StdEncoding.EncodeToString([]byte("sixteen-bytes-ok")), `key "a" is 16 bytes, want 32`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCodecKeys(tt.in, "temporal.codec_keys")
			var cerr *Error
			require.ErrorAs(t, err, &cerr)
			require.Equal(t, "temporal.codec_keys", cerr.Key)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, err, "TEMPORAL_CODEC_KEYS")
			require.ErrorContains(t, err, "fix:")
			require.NotContains(t, err.Error(), key('a'), "the key is never echoed")
		})
	}
}
