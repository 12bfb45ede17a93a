package temporalx

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"mcp-platform/internal/config"
)

func testKey(id string, fill byte) config.CodecKey {
	return config.CodecKey{ID: id, Secret: bytes.Repeat([]byte{fill}, config.CodecKeySize)}
}

func newTestCodec(t *testing.T, keys ...config.CodecKey) *Codec {
	t.Helper()
	c, err := NewCodec(keys)
	require.NoError(t, err)
	return c
}

type turnInput struct {
	User     string `json:"user"`
	Password string `json:"password"`
	Salary   int    `json:"salary"`
}

var secretInput = turnInput{User: "alice-7f3", Password: "hunter2-Xq9", Salary: 123457}

// requireOpaque fails unless p is encrypted under keyID and shows none of the plaintext.
func requireOpaque(t *testing.T, p *commonpb.Payload, keyID string, plaintext ...string) {
	t.Helper()
	require.Equal(t, EncodingEncrypted, string(p.GetMetadata()[converter.MetadataEncoding]))
	require.Equal(t, keyID, string(p.GetMetadata()[MetadataKeyID]))
	require.Len(t, p.GetMetadata(), 2, "nothing else in clear: %v", p.GetMetadata())
	raw, err := proto.Marshal(p)
	require.NoError(t, err)
	for _, s := range append(plaintext, "json/plain") {
		require.NotContains(t, string(raw), s)
	}
}

func TestCodec(t *testing.T) {
	c := newTestCodec(t, testKey("k1", 1))
	dc := c.DataConverter()

	t.Run("OK round trip through the data converter", func(t *testing.T) {
		p, err := dc.ToPayload(secretInput)
		require.NoError(t, err)
		requireOpaque(t, p, "k1", "alice-7f3", "hunter2-Xq9", "123457", "password")
		var got turnInput
		require.NoError(t, dc.FromPayload(p, &got))
		require.Equal(t, secretInput, got)
	})

	t.Run("OK same value encrypts differently each time", func(t *testing.T) {
		a, err := dc.ToPayload(secretInput)
		require.NoError(t, err)
		b, err := dc.ToPayload(secretInput)
		require.NoError(t, err)
		require.NotEqual(t, a.GetData(), b.GetData())
	})

	t.Run("OK nil and empty values", func(t *testing.T) {
		p, err := dc.ToPayload(nil)
		require.NoError(t, err)
		requireOpaque(t, p, "k1")
		var got any = "x"
		require.NoError(t, dc.FromPayload(p, &got))
		require.Nil(t, got)
		out, err := c.Encode(nil)
		require.NoError(t, err)
		require.Empty(t, out)
	})

	t.Run("OK plaintext payloads pass decoding", func(t *testing.T) {
		plain, err := converter.GetDefaultDataConverter().ToPayload(secretInput)
		require.NoError(t, err)
		out, err := c.Decode([]*commonpb.Payload{plain})
		require.NoError(t, err)
		require.True(t, proto.Equal(plain, out[0]))
	})

	t.Run("OK encrypted payloads are not encrypted twice", func(t *testing.T) {
		p, err := dc.ToPayload(secretInput)
		require.NoError(t, err)
		out, err := c.Encode([]*commonpb.Payload{p})
		require.NoError(t, err)
		require.Same(t, p, out[0])
	})

	t.Run("ErrDecrypt tampered", func(t *testing.T) {
		p, err := dc.ToPayload(secretInput)
		require.NoError(t, err)
		p.Data[len(p.Data)-1] ^= 1
		_, err = c.Decode([]*commonpb.Payload{p})
		require.ErrorIs(t, err, ErrDecrypt)
		require.ErrorContains(t, err, `"k1"`)
	})

	t.Run("ErrDecrypt truncated", func(t *testing.T) {
		_, err := c.Decode([]*commonpb.Payload{{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(EncodingEncrypted), MetadataKeyID: []byte("k1")}, Data: []byte("short")}})
		require.ErrorIs(t, err, ErrDecrypt)
	})

	t.Run("ErrDecrypt another key under the same ID", func(t *testing.T) {
		p, err := dc.ToPayload(secretInput)
		require.NoError(t, err)
		_, err = newTestCodec(t, testKey("k1", 2)).Decode([]*commonpb.Payload{p})
		require.ErrorIs(t, err, ErrDecrypt)
	})

	t.Run("ErrDecrypt key ID changed in the metadata", func(t *testing.T) {
		both := newTestCodec(t, testKey("k1", 1), testKey("k2", 1))
		p, err := dc.ToPayload(secretInput)
		require.NoError(t, err)
		p.Metadata[MetadataKeyID] = []byte("k2")
		_, err = both.Decode([]*commonpb.Payload{p})
		require.ErrorIs(t, err, ErrDecrypt, "the key ID is authenticated")
	})
}

func TestCodecRotation(t *testing.T) {
	old := newTestCodec(t, testKey("old", 1))
	p, err := old.DataConverter().ToPayload(secretInput)
	require.NoError(t, err)

	t.Run("OK old key listed second still decrypts", func(t *testing.T) {
		rotated := newTestCodec(t, testKey("new", 2), testKey("old", 1))
		require.Equal(t, "new", rotated.KeyID())
		var got turnInput
		require.NoError(t, rotated.DataConverter().FromPayload(p, &got))
		require.Equal(t, secretInput, got)

		fresh, err := rotated.DataConverter().ToPayload(secretInput)
		require.NoError(t, err)
		requireOpaque(t, fresh, "new", "hunter2-Xq9")
	})

	t.Run("ErrUnknownKey once the old key is gone", func(t *testing.T) {
		dropped := newTestCodec(t, testKey("new", 2))
		var got turnInput
		err := dropped.DataConverter().FromPayload(p, &got)
		require.ErrorIs(t, err, ErrUnknownKey)
		require.ErrorContains(t, err, `unknown key "old"`)
		require.ErrorContains(t, err, `holds "new"`)
		require.ErrorContains(t, err, "TEMPORAL_CODEC_KEYS")
	})
}

func TestNewCodecErrors(t *testing.T) {
	tests := []struct {
		name string
		keys []config.CodecKey
		want string
	}{
		{"ErrNoKeys", nil, "no key"},
		{"ErrShortKey", []config.CodecKey{{ID: "k", Secret: []byte("short")}}, `key "k" is 5 bytes`},
		{"ErrDuplicate", []config.CodecKey{testKey("k", 1), testKey("k", 2)}, `"k" is empty or listed twice`},
		{"ErrEmptyID", []config.CodecKey{testKey("", 1)}, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCodec(tt.keys)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestFailureConverter(t *testing.T) {
	c := newTestCodec(t, testKey("k1", 1))
	fc := c.FailureConverter()
	cause := temporal.NewNonRetryableApplicationError("login failed for password hunter2-Xq9", "Denied", nil, "detail salary 123457")

	f := fc.ErrorToFailure(cause)
	raw, err := proto.Marshal(f)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "hunter2-Xq9", "the message is encrypted")
	require.NotContains(t, string(raw), "123457", "the details are encrypted")
	requireOpaque(t, f.GetEncodedAttributes(), "k1")

	back := fc.FailureToError(f)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(back, &appErr))
	require.Equal(t, "login failed for password hunter2-Xq9", appErr.Message())
	require.Equal(t, "Denied", appErr.Type())
	require.True(t, appErr.NonRetryable())
}

func TestLoadCodec(t *testing.T) {
	dev := func(dir string) config.Config {
		cfg := config.Default()
		cfg.DataDir = dir
		return cfg
	}

	t.Run("OK dev key generated once with mode 0600 and reused", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		first, err := LoadCodec(dev(dir))
		require.NoError(t, err)
		fi, err := os.Stat(filepath.Join(dir, DevKeyFile))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		require.True(t, strings.HasPrefix(first.KeyID(), "dev-"))

		p, err := first.DataConverter().ToPayload(secretInput)
		require.NoError(t, err)
		again, err := LoadCodec(dev(dir))
		require.NoError(t, err)
		require.Equal(t, first.KeyID(), again.KeyID())
		var got turnInput
		require.NoError(t, again.DataConverter().FromPayload(p, &got), "a restart reads what the last run wrote")
	})

	t.Run("OK concurrent first starts agree on one key", func(t *testing.T) {
		dir := t.TempDir()
		ids := make([]string, 8)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				c, err := LoadCodec(dev(dir))
				if err == nil {
					ids[i] = c.KeyID()
				}
			})
		}
		wg.Wait()
		for _, id := range ids {
			require.Equal(t, ids[0], id)
		}
		require.NotEmpty(t, ids[0])
		left, err := filepath.Glob(filepath.Join(dir, DevKeyFile+".*"))
		require.NoError(t, err)
		require.Empty(t, left, "no temporary files left")
	})

	t.Run("OK configured keys win over the dev file", func(t *testing.T) {
		cfg := dev(t.TempDir())
		cfg.Temporal.CodecKeys = "conf:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
		c, err := LoadCodec(cfg)
		require.NoError(t, err)
		require.Equal(t, "conf", c.KeyID())
		require.NoFileExists(t, filepath.Join(cfg.DataDir, DevKeyFile))
	})

	t.Run("ErrProductionWithoutKeys", func(t *testing.T) {
		cfg := dev(t.TempDir())
		cfg.Environment = config.EnvProduction
		_, err := LoadCodec(cfg)
		require.ErrorContains(t, err, "TEMPORAL_CODEC_KEYS is required outside dev")
		require.NoFileExists(t, filepath.Join(cfg.DataDir, DevKeyFile))
	})

	t.Run("ErrDevKeyReadableByOthers", func(t *testing.T) {
		dir := t.TempDir()
		_, err := LoadCodec(dev(dir))
		require.NoError(t, err)
		require.NoError(t, os.Chmod(filepath.Join(dir, DevKeyFile), 0o644))
		_, err = LoadCodec(dev(dir))
		require.ErrorContains(t, err, "chmod 600")
	})

	t.Run("ErrDevKeyDamaged", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, DevKeyFile), []byte("dev-1:bm90IDMyIGJ5dGVz\n"), 0o600))
		_, err := LoadCodec(dev(dir))
		require.ErrorContains(t, err, "damaged")
		require.ErrorContains(t, err, `key "dev-1" is 12 bytes`)
	})
}
