// Package svd is the SVD benchmark of DataFlower: the singular values of a
// tall integer matrix, computed block by block. start generates the matrix
// from a seed and posts its row blocks, one compute instance per block
// factors it as A_i = U_i R_i with R_i = S_i V_i^T, and merge stacks the R_i
// and takes the singular values of the stack, which are those of the whole
// matrix: A = blockdiag(U_i) [R_1; …; R_n] and blockdiag(U_i) has
// orthonormal columns.
package svd

import (
	"encoding/binary"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// The DataFlower sizes: an 8192×512 matrix in 16 row blocks of 512×512.
const (
	Rows   = 8192
	Cols   = 512
	Blocks = 16
)

// MaxEntries bounds rows×cols of a generated matrix (64 Mi entries), so a
// mistaken input fails fast instead of exhausting memory.
const MaxEntries = 64 << 20

// Size is the shape of a benchmark matrix and the number of row blocks it
// is split into.
type Size struct {
	Rows, Cols, Blocks int
}

// DefaultSize is the DataFlower size.
var DefaultSize = Size{Rows: Rows, Cols: Cols, Blocks: Blocks}

// Check reports whether s is a usable size: positive, at most MaxEntries
// entries, and no more blocks than rows.
func (s Size) Check() error {
	if s.Rows <= 0 || s.Cols <= 0 || s.Blocks <= 0 {
		return fmt.Errorf("size %d×%d in %d blocks: rows, cols and blocks must be positive", s.Rows, s.Cols, s.Blocks)
	}
	if s.Rows > MaxEntries/s.Cols {
		return fmt.Errorf("size %d×%d: more than %d entries", s.Rows, s.Cols, MaxEntries)
	}
	if s.Blocks > s.Rows {
		return fmt.Errorf("size %d×%d in %d blocks: more blocks than rows", s.Rows, s.Cols, s.Blocks)
	}
	return nil
}

// Bounds returns the rows [lo, hi) of block i of s; the blocks split the
// rows as evenly as possible.
func (s Size) Bounds(i int) (lo, hi int) {
	return i * s.Rows / s.Blocks, (i + 1) * s.Rows / s.Blocks
}

// Matrix returns the DataFlower-size matrix of seed (Rows×Cols).
func Matrix(seed uint64) *mat.Dense {
	return Generate(seed, Rows, Cols)
}

// Generate returns a rows×cols matrix of integers in [-8, 8] that depends
// only on seed. The entries come row by row from an xorshift64* generator
// whose state is the seed mixed by splitmix64, so every seed, 0 included,
// gives a usable state. It panics if rows or cols is not positive.
func Generate(seed uint64, rows, cols int) *mat.Dense {
	// splitmix64 of the seed: never zero in practice, and zero is patched.
	z := seed + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	x := z ^ (z >> 31)
	if x == 0 {
		x = 1
	}
	data := make([]float64, rows*cols)
	for i := range data {
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		r := x * 0x2545f4914f6cdd1d
		data[i] = float64(int((r>>32)%17) - 8)
	}
	return mat.NewDense(rows, cols, data)
}

// Split returns views of the s.Blocks row blocks of m, which must be
// s.Rows×s.Cols.
func Split(m *mat.Dense, s Size) []*mat.Dense {
	blocks := make([]*mat.Dense, s.Blocks)
	for i := range blocks {
		lo, hi := s.Bounds(i)
		blocks[i] = m.Slice(lo, hi, 0, s.Cols).(*mat.Dense)
	}
	return blocks
}

// Factor returns R = S V^T of the thin SVD A = U S V^T of block a, so that
// a = U R with U having orthonormal columns. R is k×c for an r×c block,
// k = min(r, c).
func Factor(a mat.Matrix) (*mat.Dense, error) {
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		r, c := a.Dims()
		return nil, fmt.Errorf("SVD of a %d×%d block did not converge", r, c)
	}
	s := svd.Values(nil)
	var v mat.Dense
	svd.VTo(&v)
	_, c := a.Dims()
	r := mat.NewDense(len(s), c, nil)
	r.Mul(mat.NewDiagDense(len(s), s), v.T())
	return r, nil
}

// Stack returns the factors rs one above the other; they must all have the
// same number of columns.
func Stack(rs []*mat.Dense) (*mat.Dense, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("no factors to stack")
	}
	_, cols := rs[0].Dims()
	rows := 0
	for i, r := range rs {
		n, c := r.Dims()
		if c != cols {
			return nil, fmt.Errorf("factor %d has %d columns, factor 0 has %d", i, c, cols)
		}
		rows += n
	}
	out := mat.NewDense(rows, cols, nil)
	at := 0
	for _, r := range rs {
		n, _ := r.Dims()
		out.Slice(at, at+n, 0, cols).(*mat.Dense).Copy(r)
		at += n
	}
	return out, nil
}

// SingularValues returns the singular values of m, largest first.
func SingularValues(m mat.Matrix) ([]float64, error) {
	var svd mat.SVD
	if !svd.Factorize(m, mat.SVDNone) {
		r, c := m.Dims()
		return nil, fmt.Errorf("SVD of a %d×%d matrix did not converge", r, c)
	}
	return svd.Values(nil), nil
}

// Merge returns the singular values of the matrix whose blocks have the
// factors rs (as made by Factor), largest first.
func Merge(rs []*mat.Dense) ([]float64, error) {
	stack, err := Stack(rs)
	if err != nil {
		return nil, fmt.Errorf("stack factors: %w", err)
	}
	return SingularValues(stack)
}

// Direct returns the singular values of Matrix(seed) by one SVD of the
// whole matrix, for checking the workflow's result.
func Direct(seed uint64) []float64 {
	return DirectSize(seed, Rows, Cols)
}

// DirectSize is Direct for the rows×cols matrix Generate(seed, rows, cols).
// It panics if the SVD does not converge, which does not happen for these
// matrices.
func DirectSize(seed uint64, rows, cols int) []float64 {
	s, err := SingularValues(Generate(seed, rows, cols))
	if err != nil {
		panic(err)
	}
	return s
}

// Result is the output of the workflow: the singular values of the matrix,
// largest first, their number and the largest.
type Result struct {
	Count   int       `json:"count"`
	Largest float64   `json:"largest"`
	Values  []float64 `json:"values"`
}

// NewResult returns the Result of the singular values s, largest first.
func NewResult(s []float64) Result {
	r := Result{Count: len(s), Values: s}
	if len(s) > 0 {
		r.Largest = s[0]
	}
	return r
}

// headerLen is the length of the header of an encoded block or factor: the
// rows and the columns, each a little-endian uint32.
const headerLen = 8

func header(rows, cols int, n int) []byte {
	b := make([]byte, headerLen, headerLen+n)
	binary.LittleEndian.PutUint32(b[0:], uint32(rows))
	binary.LittleEndian.PutUint32(b[4:], uint32(cols))
	return b
}

func readHeader(b []byte, entrySize int) (rows, cols int, err error) {
	if len(b) < headerLen {
		return 0, 0, fmt.Errorf("%d bytes: shorter than the %d-byte header", len(b), headerLen)
	}
	rows = int(binary.LittleEndian.Uint32(b[0:]))
	cols = int(binary.LittleEndian.Uint32(b[4:]))
	if rows == 0 || cols == 0 {
		return 0, 0, fmt.Errorf("header says %d×%d: empty matrix", rows, cols)
	}
	if uint64(rows)*uint64(cols)*uint64(entrySize) != uint64(len(b)-headerLen) {
		return 0, 0, fmt.Errorf("header says %d×%d, but %d bytes of entries follow", rows, cols, len(b)-headerLen)
	}
	return rows, cols, nil
}

// EncodeBlock encodes a block of integers in [-128, 127] compactly: rows
// and columns as little-endian uint32, then one signed byte per entry, row
// by row.
func EncodeBlock(m mat.Matrix) ([]byte, error) {
	rows, cols := m.Dims()
	b := header(rows, cols, rows*cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			v := m.At(i, j)
			if v != math.Trunc(v) || v < math.MinInt8 || v > math.MaxInt8 {
				return nil, fmt.Errorf("entry (%d, %d) = %v is not an integer in [-128, 127]", i, j, v)
			}
			b = append(b, byte(int8(v)))
		}
	}
	return b, nil
}

// DecodeBlock decodes a block encoded by EncodeBlock.
func DecodeBlock(b []byte) (*mat.Dense, error) {
	rows, cols, err := readHeader(b, 1)
	if err != nil {
		return nil, fmt.Errorf("decode block: %w", err)
	}
	data := make([]float64, rows*cols)
	for i, v := range b[headerLen:] {
		data[i] = float64(int8(v))
	}
	return mat.NewDense(rows, cols, data), nil
}

// EncodeDense encodes a matrix of float64: rows and columns as
// little-endian uint32, then the entries row by row as little-endian IEEE
// 754 doubles.
func EncodeDense(m mat.Matrix) []byte {
	rows, cols := m.Dims()
	b := header(rows, cols, 8*rows*cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.At(i, j)))
		}
	}
	return b
}

// DecodeDense decodes a matrix encoded by EncodeDense.
func DecodeDense(b []byte) (*mat.Dense, error) {
	rows, cols, err := readHeader(b, 8)
	if err != nil {
		return nil, fmt.Errorf("decode matrix: %w", err)
	}
	data := make([]float64, rows*cols)
	for i := range data {
		data[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[headerLen+8*i:]))
	}
	return mat.NewDense(rows, cols, data), nil
}
