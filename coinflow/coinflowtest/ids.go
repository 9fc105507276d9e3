package coinflowtest

import (
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"math/big"
	"math/rand/v2"
	"sync"
	"time"
)

// ids holds one deterministic generator per kind of id, so that, say, the
// number of webhook log entries written (which depends on delivery timing)
// never shifts the payout signatures of a seeded run.
type ids struct {
	signature   *idStream // withdraw transactions and return transactions
	transfer    *idStream // transferIds
	object      *idStream // withdrawer _ids, merchant _id
	token       *idStream // destination tokens, references, hashes
	wallet      *idStream // settlement wallet
	logs        *idStream // webhook log ids
	session     *idStream // session key secret and ids
	webhookSeed uint64    // seeds the webhook fault dice
	seed        int64
}

func newIDs(seed int64) ids {
	return ids{
		signature:   newIDStream(seed, "signature"),
		transfer:    newIDStream(seed, "transfer"),
		object:      newIDStream(seed, "object"),
		token:       newIDStream(seed, "token"),
		wallet:      newIDStream(seed, "wallet"),
		logs:        newIDStream(seed, "logs"),
		session:     newIDStream(seed, "session"),
		webhookSeed: streamKey(seed, "webhook"),
		seed:        seed,
	}
}

func streamKey(seed int64, kind string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(kind))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	return h.Sum64()
}

// idStream is a goroutine-safe seeded generator.
type idStream struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newIDStream(seed int64, kind string) *idStream {
	return &idStream{r: rand.New(rand.NewPCG(uint64(seed), streamKey(seed, kind)))}
}

func (s *idStream) bytes(n int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return randBytes(s.r, n)
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

// signature returns a Solana-style transaction signature: 64 bytes in
// base58, always 88 characters (about 4 in 5 random values encode to 88; the
// rest are redrawn).
func (s *idStream) signature() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return signatureFrom(s.r)
}

func signatureFrom(r *rand.Rand) string {
	for {
		if sig := base58(randBytes(r, 64)); len(sig) == 88 {
			return sig
		}
	}
}

// address returns a 32-byte Solana address in base58.
func (s *idStream) address() string { return base58(s.bytes(32)) }

// uuid returns a random (version 4) UUID.
func (s *idStream) uuid() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uuidFrom(s.r)
}

func uuidFrom(r *rand.Rand) string {
	b := randBytes(r, 16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// objectID returns a Mongo-style 24-hex id: 4 bytes of time, 8 random.
func (s *idStream) objectID(t time.Time) string {
	b := make([]byte, 12)
	binary.BigEndian.PutUint32(b, uint32(t.Unix()))
	copy(b[4:], s.bytes(8))
	return hex.EncodeToString(b)
}

// token returns prefix + n base58 characters.
func (s *idStream) token(prefix string, n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]byte, 0, len(prefix)+n)
	out = append(out, prefix...)
	for range n {
		out = append(out, base58Alphabet[s.r.IntN(58)])
	}
	return string(out)
}

// objectIDFor derives a stable 24-hex id from a string, for records (such as
// synthetic withdraws) whose withdrawer the emulator does not hold.
func objectIDFor(seed int64, s string) string {
	r := rand.New(rand.NewPCG(uint64(seed), streamKey(seed, "objectfor:"+s)))
	return hex.EncodeToString(randBytes(r, 12))
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58 encodes b with the Bitcoin/Solana alphabet (leading zero bytes
// become '1').
func base58(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	n := new(big.Int).SetBytes(b)
	radix := big.NewInt(58)
	mod := new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, radix, mod)
		out = append(out, base58Alphabet[mod.Int64()])
	}
	for range zeros {
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}
