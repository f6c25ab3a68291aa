package recognizer

import (
	"image"
	"image/draw"
	"slices"
)

// Region is a connected set of pixels that a pixel classifier accepted.
type Region struct {
	Pixels int             // number of pixels
	Bounds image.Rectangle // smallest rectangle holding them
}

// mask is a per-pixel verdict over an image's bounds, row by row.
type mask struct {
	r   image.Rectangle
	set []bool
	n   int // pixels set
}

// classify runs a pixel classifier over every pixel of img.
func classify(img image.Image, accept func(r, g, b uint8) bool) *mask {
	b := img.Bounds()
	m := &mask{r: b, set: make([]bool, b.Dx()*b.Dy())}
	rgba := toRGBA(img)
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := rgba.Pix[rgba.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			p := row[4*x : 4*x+3 : 4*x+3]
			if accept(p[0], p[1], p[2]) {
				m.set[i] = true
				m.n++
			}
			i++
		}
	}
	return m
}

// regions returns the 8-connected regions of the mask, largest first.
func (m *mask) regions() []Region {
	w, h := m.r.Dx(), m.r.Dy()
	seen := make([]bool, len(m.set))
	var out []Region
	var stack []int
	for start := range m.set {
		if !m.set[start] || seen[start] {
			continue
		}
		seen[start] = true
		stack = append(stack[:0], start)
		reg := Region{}
		x0, y0 := start%w, start/w
		minX, minY, maxX, maxY := x0, y0, x0, y0
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			reg.Pixels++
			x, y := i%w, i/w
			minX, maxX = min(minX, x), max(maxX, x)
			minY, maxY = min(minY, y), max(maxY, y)
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= w || ny >= h {
						continue
					}
					j := ny*w + nx
					if m.set[j] && !seen[j] {
						seen[j] = true
						stack = append(stack, j)
					}
				}
			}
		}
		reg.Bounds = image.Rect(minX, minY, maxX+1, maxY+1).Add(m.r.Min)
		out = append(out, reg)
	}
	slices.SortStableFunc(out, func(a, b Region) int { return b.Pixels - a.Pixels })
	return out
}

// countIn returns how many pixels of the mask lie inside r.
func (m *mask) countIn(r image.Rectangle) int {
	r = r.Intersect(m.r)
	n := 0
	w := m.r.Dx()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		off := (y-m.r.Min.Y)*w - m.r.Min.X
		for x := r.Min.X; x < r.Max.X; x++ {
			if m.set[off+x] {
				n++
			}
		}
	}
	return n
}

// toRGBA returns img as an *image.RGBA, converting it if need be.
func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Rect, img, out.Rect.Min, draw.Src)
	return out
}
