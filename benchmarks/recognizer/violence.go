package recognizer

import (
	"fmt"
	"image"
)

// IsBlood reports whether an sRGB colour is the deep red of blood: red at
// least 100, green and blue each at most 0.4 of red and within 0.2 of red
// of each other (which keeps out orange and magenta).
func IsBlood(r, g, b uint8) bool {
	R, G, B := int(r), int(g), int(b)
	d := G - B
	if d < 0 {
		d = -d
	}
	return R >= 100 && 10*G <= 4*R && 10*B <= 4*R && 10*d <= 2*R
}

// Thresholds of DetectViolence, as shares of the image's pixels.
const (
	BloodFraction = 0.05  // blood-coloured pixels in all
	BloodRegion   = 0.025 // blood-coloured pixels in the largest region
)

// DetectViolence decides whether an image shows violence by the blood
// cue of Nam, Alghoniemy and Tewfik, "Audio-visual content-based violent
// scene characterization" (ICIP 1998): an image is violent when
// blood-coloured pixels (IsBlood, an explicit colour rule in place of their
// table of blood colours) cover at least BloodFraction of it and their
// largest 8-connected region at least BloodRegion, so that scattered red
// pixels do not count.
func DetectViolence(img image.Image) Verdict {
	m := classify(img, IsBlood)
	total := float64(m.r.Dx() * m.r.Dy())
	v := Verdict{Fraction: float64(m.n) / total}
	if v.Fraction < BloodFraction {
		v.Rule = fmt.Sprintf("blood is %.1f%% of the image, under %.1f%%", 100*v.Fraction, 100*BloodFraction)
		return v
	}
	regs := m.regions()
	v.Regions = len(regs)
	v.Largest = float64(regs[0].Pixels) / total
	if v.Largest < BloodRegion {
		v.Rule = fmt.Sprintf("largest blood region is %.1f%% of the image, under %.1f%%", 100*v.Largest, 100*BloodRegion)
		return v
	}
	v.Illegal = true
	v.Rule = fmt.Sprintf("blood is %.1f%% of the image, %.1f%% in one region", 100*v.Fraction, 100*v.Largest)
	return v
}
