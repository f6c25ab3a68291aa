package synthetic

import (
	"encoding/json"
	"testing"
)

func TestFiller(t *testing.T) {
	for _, size := range []int64{0, 1, 2, 3, 8, 1327839} {
		b := filler(size)
		if size > 0 && int64(len(b)) != size {
			t.Errorf("filler(%d) is %d bytes", size, len(b))
		}
		if !json.Valid(b) {
			t.Errorf("filler(%d) is not JSON: %.20q", size, b)
		}
	}
}
