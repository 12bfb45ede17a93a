package platform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mcp-platform/authz"
	"mcp-platform/internal/config"
)

// devKeyFile is where dev keeps its generated assertion signing key, under the data dir.
const devKeyFile = "assertion-signing.key"

// Keys returns the front ends' assertion signer (nil when cfg holds no private key outside
// dev: such a process may only verify) and the keyring workers verify with. In dev a key is
// generated once under the data dir and reused. Outside dev a process with neither a key nor
// public keys cannot start: workers must not act on unsigned identities.
func Keys(cfg config.Config) (*authz.Signer, *authz.Keyring, error) {
	a := cfg.Assertions
	if a.Key == "" && cfg.IsDev() {
		key, err := devKey(cfg.DataDir)
		if err != nil {
			return nil, nil, err
		}
		a.Key = key
	}
	var signer *authz.Signer
	if a.Key != "" {
		s, err := authz.ParseSigner(a.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("%w (MCP_ASSERTION_KEY; `mcp-platform keys` makes one)", err)
		}
		signer = s
	}
	switch {
	case a.PublicKeys != "":
		ring, err := authz.ParseKeyring(a.PublicKeys)
		if err != nil {
			return nil, nil, fmt.Errorf("%w (MCP_ASSERTION_PUBLIC_KEYS)", err)
		}
		return signer, ring, nil
	case signer != nil:
		return signer, signer.Public(), nil
	default:
		return nil, nil, errors.New("no assertion keys: set MCP_ASSERTION_PUBLIC_KEYS on workers and MCP_ASSERTION_KEY on the API and MCP server (`mcp-platform keys` makes a pair)")
	}
}

// devKey reads the dev signing key, generating it on first use.
func devKey(dataDir string) (string, error) {
	path := filepath.Join(dataDir, devKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read dev assertion key: %w", err)
	}
	signer, _, err := authz.NewKeyPair("dev")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("write dev assertion key: %w", err)
	}
	if err := os.WriteFile(path, []byte(signer.Format()+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write dev assertion key: %w", err)
	}
	return signer.Format(), nil
}
