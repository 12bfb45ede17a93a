package codecapi

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"mcp-platform/internal/redact"
)

// mask is a payload codec whose Decode masks the sensitive fields of decoded payloads, for
// callers who may not read them. Encode changes nothing.
type mask struct {
	// extra are the names masked beyond redact.WellKnown.
	extra []string
}

// Encode returns payloads unchanged.
func (mask) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) { return payloads, nil }

// Decode masks every payload: JSON through redact.Value (sensitive fields, and credentials in
// strings), other text through redact.String, and bytes it cannot inspect as a whole. Null
// payloads pass.
func (m mask) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		out[i] = m.payload(p)
	}
	return out, nil
}

func (m mask) payload(p *commonpb.Payload) *commonpb.Payload {
	var data []byte
	switch string(p.GetMetadata()[converter.MetadataEncoding]) {
	case converter.MetadataEncodingNil:
		return p
	case converter.MetadataEncodingJSON, converter.MetadataEncodingProtoJSON:
		data = m.json(p.GetData())
	default:
		if utf8.Valid(p.GetData()) {
			data = []byte(redact.String(string(p.GetData())))
		} else {
			data = []byte(redact.Mask)
		}
	}
	return &commonpb.Payload{Metadata: p.GetMetadata(), Data: data}
}

// json masks a JSON document; one that does not parse is masked whole, as a JSON string.
func (m mask) json(data []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil {
		if b, err := json.Marshal(redact.Value(v, m.extra...)); err == nil {
			return b
		}
	}
	b, _ := json.Marshal(redact.Mask)
	return b
}
