package recognizer

import (
	"fmt"
	"image"
)

// IsSkin reports whether an sRGB colour is skin by the explicit rule for
// uniform daylight of Kovač, Peer and Solina, "Human skin colour clustering
// for face detection" (EUROCON 2003):
//
//	R > 95, G > 40, B > 20, max(R,G,B) − min(R,G,B) > 15, |R − G| > 15, R > G, R > B.
func IsSkin(r, g, b uint8) bool {
	hi, lo := max(r, g, b), min(r, g, b)
	return r > 95 && g > 40 && b > 20 && hi-lo > 15 && r > g && r > b && r-g > 15
}

// Verdict is a detector's decision with the figures it was taken on.
type Verdict struct {
	Illegal bool `json:"illegal"`
	// Rule names the rule that decided.
	Rule string `json:"rule"`
	// Fraction is the share of the image's pixels the pixel classifier
	// accepted.
	Fraction float64 `json:"fraction"`
	// Regions is how many connected regions those pixels form (0 when
	// the decision was taken before they were counted).
	Regions int `json:"regions"`
	// Largest is the share of the image's pixels in the largest region
	// (0 when Regions is).
	Largest float64 `json:"largest"`
}

// DetectAdult decides whether an image shows nudity with the region rules
// of Rigan Ap-apid, "An Algorithm for Nudity Detection" (5th Philippine
// Computing Science Congress, 2005), over skin pixels found by IsSkin and
// grouped into 8-connected regions:
//
//	(a) skin is under 15% of the image: not nude;
//	(b) the largest region is under 35% of the skin, and the second and third
//	    under 30% each: not nude;
//	(c) the largest region is under 45% of the skin: not nude;
//	(d) skin is under 30% of the image and under 55% of the bounding
//	    polygon of the three largest regions: not nude;
//	(e) there are more than 60 regions and the mean intensity in that
//	    polygon is under 0.25: not nude;
//	(f) otherwise nude.
//
// The paper's bounding polygon (through the leftmost, uppermost, rightmost
// and lowest skin pixels of the three largest regions) is replaced by their
// bounding rectangle, which holds it.
func DetectAdult(img image.Image) Verdict {
	m := classify(img, IsSkin)
	total := float64(m.r.Dx() * m.r.Dy())
	v := Verdict{Fraction: float64(m.n) / total}
	if m.n == 0 {
		v.Rule = "a: no skin"
		return v
	}
	regs := m.regions()
	v.Regions = len(regs)
	v.Largest = float64(regs[0].Pixels) / total
	share := func(i int) float64 {
		if i >= len(regs) {
			return 0
		}
		return float64(regs[i].Pixels) / float64(m.n)
	}
	if v.Fraction < 0.15 {
		v.Rule = fmt.Sprintf("a: skin is %.1f%% of the image, under 15%%", 100*v.Fraction)
		return v
	}
	if share(0) < 0.35 && share(1) < 0.30 && share(2) < 0.30 {
		v.Rule = "b: no dominant skin region"
		return v
	}
	if share(0) < 0.45 {
		v.Rule = fmt.Sprintf("c: largest skin region is %.1f%% of the skin, under 45%%", 100*share(0))
		return v
	}
	box := image.Rectangle{}
	for i := 0; i < 3 && i < len(regs); i++ {
		box = box.Union(regs[i].Bounds)
	}
	if v.Fraction < 0.30 && float64(m.countIn(box)) < 0.55*float64(box.Dx()*box.Dy()) {
		v.Rule = "d: skin is sparse within the three largest regions' bounds"
		return v
	}
	if len(regs) > 60 && meanIntensity(img, box) < 0.25 {
		v.Rule = "e: many skin regions in a dark area"
		return v
	}
	v.Illegal = true
	v.Rule = fmt.Sprintf("f: skin is %.1f%% of the image, %.1f%% of it in one region", 100*v.Fraction, 100*share(0))
	return v
}

// meanIntensity is the mean of (R+G+B)/3 over r, scaled to [0, 1].
func meanIntensity(img image.Image, r image.Rectangle) float64 {
	rgba := toRGBA(img)
	r = r.Intersect(rgba.Rect)
	if r.Empty() {
		return 0
	}
	sum := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := rgba.PixOffset(x, y)
			sum += int(rgba.Pix[i]) + int(rgba.Pix[i+1]) + int(rgba.Pix[i+2])
		}
	}
	return float64(sum) / float64(3*255*r.Dx()*r.Dy())
}
