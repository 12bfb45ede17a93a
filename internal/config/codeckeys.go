package config

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
)

// CodecKeySize is the length of a payload codec key: AES-256.
const CodecKeySize = 32

// codecKeysExample is what the fix of a codec key error suggests.
const codecKeysExample = "k1:$(openssl rand -base64 32) (add a new key first to rotate: k2:<new>,k1:<old>)"

// codecKeyIDRE is the shape of a key ID: it is stored in clear in every payload's metadata.
var codecKeyIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CodecKey is one AES-256 key of the payload codec that encrypts what Temporal stores.
type CodecKey struct {
	// ID names the key in each payload's metadata, so the key that encrypted a payload can be
	// found after a rotation.
	ID string
	// Secret is the key itself, CodecKeySize bytes.
	Secret []byte
}

// Keys parses CodecKeys: the first key encrypts, every one decrypts. It returns nil for an
// empty setting, and otherwise an *Error naming the key that is wrong (never its value).
func (t Temporal) Keys() ([]CodecKey, error) {
	return ParseCodecKeys(t.CodecKeys, "temporal.codec_keys")
}

// ParseCodecKeys parses "id:base64key,id:base64key", the form of TEMPORAL_CODEC_KEYS and of the
// dev key file. Errors are *Error values with key as the setting's name (and its environment
// variable, when it has one); they name the wrong entry, never a key's value.
func ParseCodecKeys(s, key string) ([]CodecKey, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	bad := func(reason string) error {
		return &Error{Key: key, Env: envOf(key), Reason: reason, Fix: "use id:base64key pairs separated by commas, e.g. " + codecKeysExample}
	}
	var keys []CodecKey
	seen := map[string]bool{}
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		id, enc, ok := strings.Cut(entry, ":")
		id, enc = strings.TrimSpace(id), strings.TrimSpace(enc)
		switch {
		case entry == "":
			return nil, bad(fmt.Sprintf("entry %d is empty", i+1))
		case !ok:
			return nil, bad(fmt.Sprintf("entry %d has no \"id:\" before the key", i+1))
		case !codecKeyIDRE.MatchString(id):
			return nil, bad(fmt.Sprintf("entry %d: key ID %q is not 1-64 letters, digits, '.', '_' or '-'", i+1, id))
		case seen[id]:
			return nil, bad(fmt.Sprintf("key %q is listed twice", id))
		}
		seen[id] = true
		secret, err := decodeBase64(enc)
		if err != nil {
			return nil, bad(fmt.Sprintf("key %q is not base64", id))
		}
		if len(secret) != CodecKeySize {
			return nil, bad(fmt.Sprintf("key %q is %d bytes, want %d (AES-256)", id, len(secret), CodecKeySize))
		}
		keys = append(keys, CodecKey{ID: id, Secret: secret})
	}
	return keys, nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}
