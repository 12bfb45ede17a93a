package temporalx

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"mcp-platform/internal/config"
)

// Metadata of an encrypted payload. The encoding is the name Temporal's samples and tools use
// for encrypted data; the key ID says which key of the ring decrypts it.
const (
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
)

// ErrUnknownKey is wrapped by Decode when a payload names a key ID the codec does not hold: the
// key was removed from TEMPORAL_CODEC_KEYS while histories encrypted with it remain.
var ErrUnknownKey = errors.New("payload encrypted with an unknown key")

// ErrDecrypt is wrapped by Decode when a payload does not decrypt with the key it names: it was
// altered, or the key of that ID is not the one that encrypted it.
var ErrDecrypt = errors.New("payload does not decrypt")

// Codec is the payload codec of every Temporal client and worker of the platform: it encrypts
// each payload with AES-256-GCM under the first key and names the key in the payload's
// metadata, and decrypts with whichever key a payload names, so that keys can be rotated
// (a new key first, the old ones after it until their histories are gone). Temporal's
// database and API then hold ciphertext only. It is safe for concurrent use.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD
	ids     []string
}

var _ converter.PayloadCodec = (*Codec)(nil)

// NewCodec returns the codec for keys: keys[0] encrypts, all decrypt. It returns an error when
// keys is empty, an ID repeats or a key is not config.CodecKeySize bytes.
func NewCodec(keys []config.CodecKey) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("payload codec: no key (set TEMPORAL_CODEC_KEYS)")
	}
	c := &Codec{current: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if _, dup := c.aeads[k.ID]; dup || k.ID == "" {
			return nil, fmt.Errorf("payload codec: key ID %q is empty or listed twice", k.ID)
		}
		if len(k.Secret) != config.CodecKeySize {
			return nil, fmt.Errorf("payload codec: key %q is %d bytes, want %d", k.ID, len(k.Secret), config.CodecKeySize)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("payload codec: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("payload codec: key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
		c.ids = append(c.ids, k.ID)
	}
	return c, nil
}

// KeyID is the ID of the key that encrypts.
func (c *Codec) KeyID() string { return c.current }

// additionalData binds a ciphertext to the key ID it is stored with.
func additionalData(keyID string) []byte {
	return []byte("mcp-platform temporal payload v1 key " + keyID)
}

// Encode encrypts each payload, metadata included, so that not even the payload's encoding
// (json/plain, binary/null...) shows. Payloads already encrypted are left alone.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	aead := c.aeads[c.current]
	for i, p := range payloads {
		if isEncrypted(p) {
			out[i] = p
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("payload codec: encode: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("payload codec: encode: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.current),
			},
			Data: aead.Seal(nonce, nonce, plain, additionalData(c.current)),
		}
	}
	return out, nil
}

// Decode decrypts each encrypted payload with the key it names. Payloads that are not
// encrypted pass unchanged, so histories written before encryption was enabled still replay.
// A payload naming a key the codec does not hold fails with ErrUnknownKey, one that does not
// decrypt with ErrDecrypt; both errors name the key ID, never data.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !isEncrypted(p) {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("payload codec: %w %q (this process holds %s): add that key to TEMPORAL_CODEC_KEYS after the current one",
				ErrUnknownKey, id, strings.Join(quoted(c.ids), ", "))
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return nil, fmt.Errorf("payload codec: %w with key %q: too short", ErrDecrypt, id)
		}
		nonce, sealed := data[:aead.NonceSize()], data[aead.NonceSize():]
		plain, err := aead.Open(nil, nonce, sealed, additionalData(id))
		if err != nil {
			return nil, fmt.Errorf("payload codec: %w with key %q: altered, or not the key that encrypted it", ErrDecrypt, id)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return nil, fmt.Errorf("payload codec: %w with key %q: not a payload", ErrDecrypt, id)
		}
		out[i] = &dec
	}
	return out, nil
}

func isEncrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == EncodingEncrypted
}

func quoted(ids []string) []string {
	out := slices.Clone(ids)
	for i, id := range out {
		out[i] = fmt.Sprintf("%q", id)
	}
	return out
}

// DataConverter is Temporal's default data converter with c encrypting every payload:
// workflow and activity inputs and results, signals, updates, queries, memos and the summaries
// shown in the Temporal UI. Search attributes are not payloads of the converter: Temporal
// indexes them, so they stay in clear (DESIGN section 8 lists them).
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter moves the message and stack trace of every failure into an encrypted
// payload: error texts may quote arguments and results.
func (c *Codec) FailureConverter() converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          c.DataConverter(),
		EncodeCommonAttributes: true,
	})
}
