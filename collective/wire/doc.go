// Package wire is the frame format of efmpi's transports: how a message
// (a sparse vector, float64 values, raw bytes or a gob value) and the
// control traffic of the tcp transport are laid out as bytes. It depends on
// no transport; collective and its transports import it.
//
// Every message is one frame: a HeaderSize-byte header followed by the
// payload. Header (all integers little-endian):
//
//	byte 0     magic 0xEF
//	byte 1     version (1)
//	byte 2     kind: 1 sparse vector, 2 float64 values, 3 raw bytes, 4 gob,
//	           16 heartbeat, 17 goodbye, 18 abort, 32–35 handshake
//	byte 3     reserved, 0
//	bytes 4–7  tag, int32
//	bytes 8–11 payload length in bytes, uint32, at most MaxPayload
//
// Payloads: a sparse vector is dim (uint64), nnz (uint32), nnz int32
// indices, nnz float64 values (SparseFrameSize(nnz) = 24 + 12·nnz bytes in
// all); float64 values are 8 bytes each (DenseFrameSize(n) = 12 + 8n); raw
// bytes are themselves (BytesFrameSize(n) = 12 + n); any other Go value is
// gob-encoded (a fallback, off the hot path). DecodeFrame validates
// everything it reads (sparse vectors with sparse.Vector.Validate) and never
// allocates more than the frame it was given could describe.
//
// ForSend and ForReceive classify the values Send and Receive accept into
// a Msg, the unboxed form the transports pass around; AppendMsg and
// DecodePayload encode and decode it.
package wire
