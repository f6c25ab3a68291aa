package recognizer

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"sync"
)

// segment is a stroke of a glyph, between two ink cells' centres, in font
// cells.
type segment struct{ x0, y0, x1, y1 float64 }

// strokes turns a glyph's cells into strokes: every ink cell is a dot, and
// neighbouring ink cells are joined, diagonally only where no orthogonal
// path joins them already. Drawn thick and round, they look like a
// plotter's letters rather than blocks, which tesseract reads better.
func strokes(rows [glyphH]string) []segment {
	ink := func(x, y int) bool {
		return x >= 0 && x < glyphW && y >= 0 && y < glyphH && rows[y][x] == '#'
	}
	var segs []segment
	for y := 0; y < glyphH; y++ {
		for x := 0; x < glyphW; x++ {
			if !ink(x, y) {
				continue
			}
			cx, cy := float64(x)+0.5, float64(y)+0.5
			segs = append(segs, segment{cx, cy, cx, cy})
			if ink(x+1, y) {
				segs = append(segs, segment{cx, cy, cx + 1, cy})
			}
			if ink(x, y+1) {
				segs = append(segs, segment{cx, cy, cx, cy + 1})
			}
			if ink(x+1, y+1) && !ink(x+1, y) && !ink(x, y+1) {
				segs = append(segs, segment{cx, cy, cx + 1, cy + 1})
			}
			if ink(x-1, y+1) && !ink(x-1, y) && !ink(x, y+1) {
				segs = append(segs, segment{cx, cy, cx - 1, cy + 1})
			}
		}
	}
	return segs
}

// distance from (px, py) to the segment s.
func (s segment) distance(px, py float64) float64 {
	dx, dy := s.x1-s.x0, s.y1-s.y0
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((px-s.x0)*dx+(py-s.y0)*dy)/l))
	}
	ex, ey := px-(s.x0+t*dx), py-(s.y0+t*dy)
	return math.Hypot(ex, ey)
}

// TextStyle says how text is drawn.
type TextStyle struct {
	Scale int        // pixels per font cell; a glyph is 5×7 cells
	Ink   color.RGBA // colour of the letters
}

// advance is the width of one character with its spacing, in cells.
const advance = glyphW + 1

// lineHeight is the distance between baselines, in cells.
const lineHeight = glyphH + 4

// TextSize is the size in pixels of text (lines split at '\n') drawn at
// the given scale.
func TextSize(text string, scale int) (w, h int) {
	lines := strings.Split(text, "\n")
	for _, l := range lines {
		if n := len([]rune(l)); n*advance-1 > w {
			w = n*advance - 1
		}
	}
	h = len(lines)*lineHeight - (lineHeight - glyphH)
	return w * scale, h * scale
}

// DrawText draws text (lines split at '\n', each centred on x0 + width/2)
// with its top at y0, anti-aliased over what the image holds. Characters
// the font lacks are an error.
func DrawText(img *image.RGBA, text string, x0, y0, width int, st TextStyle) error {
	if st.Scale < 1 {
		return fmt.Errorf("text scale %d: want at least 1", st.Scale)
	}
	for i, line := range strings.Split(text, "\n") {
		runes := []rune(line)
		lw := (len(runes)*advance - 1) * st.Scale
		lx := x0 + (width-lw)/2
		ly := y0 + i*lineHeight*st.Scale
		for j, r := range runes {
			g, ok := glyphCoverage(upper(r), st.Scale)
			if !ok {
				return fmt.Errorf("character %q at line %d, column %d: the font has only A-Z, 0-9, space and .,!?-", r, i+1, j+1)
			}
			g.draw(img, lx+j*advance*st.Scale, ly, st.Ink)
		}
	}
	return nil
}

// coverage is a glyph rendered at one scale: the share of each pixel its
// strokes cover, over a box pad pixels larger than the glyph's cells on
// every side.
type coverage struct {
	w, h, pad int
	a         []float64
}

type glyphKey struct {
	r     rune
	scale int
}

// glyphCache holds the coverage of each glyph drawn so far, by glyphKey.
var glyphCache sync.Map

// glyphCoverage renders the glyph of r at a scale, once.
func glyphCoverage(r rune, scale int) (*coverage, bool) {
	key := glyphKey{r, scale}
	if g, ok := glyphCache.Load(key); ok {
		return g.(*coverage), true
	}
	rows, ok := glyphs[r]
	if !ok {
		return nil, false
	}
	segs := strokes(rows)
	s := float64(scale)
	// Strokes 1.1 cells wide: letters stay open at 5×7.
	const radius = 0.55
	g := &coverage{pad: scale, w: glyphW*scale + 2*scale, h: glyphH*scale + 2*scale}
	g.a = make([]float64, g.w*g.h)
	for y := range g.h {
		for x := range g.w {
			// Pixel centre in cell units.
			px, py := (float64(x-g.pad)+0.5)/s, (float64(y-g.pad)+0.5)/s
			d := math.Inf(1)
			for _, sg := range segs {
				d = math.Min(d, sg.distance(px, py))
			}
			// Coverage falls from 1 to 0 over one pixel at the edge.
			g.a[y*g.w+x] = math.Max(0, math.Min(1, (radius-d)*s+0.5))
		}
	}
	glyphCache.Store(key, g)
	return g, true
}

// draw blends the glyph in ink over img, the top left corner of its cells
// at (gx, gy).
func (g *coverage) draw(img *image.RGBA, gx, gy int, ink color.RGBA) {
	ox, oy := gx-g.pad, gy-g.pad
	b := image.Rect(ox, oy, ox+g.w, oy+g.h).Intersect(img.Rect)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			a := g.a[(y-oy)*g.w+x-ox]
			if a == 0 {
				continue
			}
			i := img.PixOffset(x, y)
			p := img.Pix[i : i+3 : i+3]
			p[0] = blend(p[0], ink.R, a)
			p[1] = blend(p[1], ink.G, a)
			p[2] = blend(p[2], ink.B, a)
		}
	}
}

func blend(under, over uint8, a float64) uint8 {
	return uint8(math.Round(float64(under)*(1-a) + float64(over)*a))
}
