package webhook

import (
	"os"
	"testing"
)

// BenchmarkIdentify is the request path's work on a body between
// authentication and the commit: decoding it strictly and naming it.
func BenchmarkIdentify(b *testing.B) {
	body, err := os.ReadFile("../testdata/coinflow/fixtures/webhooks/withdraw-success.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if ev, _ := identify(body); ev.ContentHash == nil {
			b.Fatal("not decoded")
		}
	}
}
