package temporalx

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"mcp-platform/internal/config"
)

// DevKeyFile is the file under the data directory (MCP_DATA_DIR) that holds the payload codec
// key of dev mode, in the form of TEMPORAL_CODEC_KEYS.
const DevKeyFile = "temporal-codec.key"

// LoadCodec builds the payload codec from the settings: the keys of TEMPORAL_CODEC_KEYS when set;
// otherwise, in dev only, the key in DevKeyFile under the data directory, generated on first use
// (mode 0600) and reused after, so every process of a dev machine shares it and histories stay
// readable across restarts. Outside dev, no keys is an error (config.Validate refuses it too).
func LoadCodec(cfg config.Config) (*Codec, error) {
	keys, err := cfg.Temporal.Keys()
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		if !cfg.IsDev() {
			return nil, errors.New("payload codec: TEMPORAL_CODEC_KEYS is required outside dev")
		}
		if keys, err = devKeys(filepath.Join(cfg.DataDir, DevKeyFile)); err != nil {
			return nil, err
		}
	}
	return NewCodec(keys)
}

// devKeys reads the dev key file at path, creating it with a new random key when it does not
// exist. Concurrent first starts agree on one key: the file appears complete or not at all.
func devKeys(path string) ([]config.CodecKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createDevKey(path); err != nil {
			return nil, err
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read the dev payload codec key %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the dev payload codec key %s is readable by other users (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	keys, err := config.ParseCodecKeys(strings.TrimSpace(string(b)), DevKeyFile)
	if err != nil {
		return nil, fmt.Errorf("the dev payload codec key %s is damaged (delete it only if no history encrypted with it matters): %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("the dev payload codec key %s is empty: delete it to generate a new one", path)
	}
	return keys, nil
}

// createDevKey writes a new key to a temporary file and links it into place, which fails
// harmlessly when another process was first.
func createDevKey(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the data directory %s (MCP_DATA_DIR) for the dev payload codec key: %w", dir, err)
	}
	secret := make([]byte, config.CodecKeySize)
	id := make([]byte, 4)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("generate the dev payload codec key: %w", err)
	}
	if _, err := rand.Read(id); err != nil {
		return fmt.Errorf("generate the dev payload codec key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, DevKeyFile+".*")
	if err != nil {
		return fmt.Errorf("write the dev payload codec key in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600.
	line := "dev-" + hex.EncodeToString(id) + ":" + base64.StdEncoding.EncodeToString(secret) + "\n"
	_, werr := tmp.WriteString(line)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write the dev payload codec key %s: %w", tmp.Name(), werr)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("write the dev payload codec key %s: %w", path, err)
	}
	return nil
}
