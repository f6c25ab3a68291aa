package recognizer

import (
	"image"
	"image/color"
	"image/draw"
	"strings"
	"testing"
)

func TestIsSkin(t *testing.T) {
	tests := []struct {
		name    string
		r, g, b uint8
		want    bool
	}{
		{"light skin", 224, 172, 140, true},
		{"dark skin", 141, 85, 36, true},
		{"darkest shaded palette tone", 145, 95, 70, true},
		{"too dark (R ≤ 95)", 95, 60, 40, false},
		{"grey (spread ≤ 15)", 160, 150, 150, false},
		{"R and G too close", 200, 190, 150, false},
		{"bluish", 150, 120, 160, false},
		{"blood red (G ≤ 40)", 150, 14, 18, false},
		{"background", 232, 236, 246, false},
		{"ink", 22, 22, 28, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsSkin(tt.r, tt.g, tt.b); got != tt.want {
				t.Errorf("IsSkin(%d, %d, %d) = %v, want %v", tt.r, tt.g, tt.b, got, tt.want)
			}
		})
	}
	// The palettes keep their promises at every shade they are drawn in.
	for _, c := range skinTones {
		for _, f := range []float64{0.85, 1} {
			if !IsSkin(scale(c.R, f), scale(c.G, f), scale(c.B, f)) {
				t.Errorf("skin tone %v at %.2f is not skin", c, f)
			}
		}
	}
	for _, c := range append(append([]color.RGBA{inkColour}, neutral...), bloodRed...) {
		if IsSkin(c.R, c.G, c.B) {
			t.Errorf("colour %v is skin", c)
		}
	}
}

func TestIsBlood(t *testing.T) {
	tests := []struct {
		name    string
		r, g, b uint8
		want    bool
	}{
		{"blood", 150, 14, 18, true},
		{"dark blood", 110, 20, 25, true},
		{"too dark", 90, 5, 5, false},
		{"orange", 230, 90, 20, false},
		{"magenta", 200, 20, 75, false},
		{"skin", 224, 172, 140, false},
		{"pink", 230, 120, 130, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsBlood(tt.r, tt.g, tt.b); got != tt.want {
				t.Errorf("IsBlood(%d, %d, %d) = %v, want %v", tt.r, tt.g, tt.b, got, tt.want)
			}
		})
	}
	for _, c := range bloodRed {
		for _, f := range []float64{0.9, 1} {
			if !IsBlood(scale(c.R, f), scale(c.G, f), scale(c.B, f)) {
				t.Errorf("blood colour %v at %.2f is not blood", c, f)
			}
		}
	}
	for _, c := range append(append([]color.RGBA{inkColour}, neutral...), skinTones...) {
		if IsBlood(c.R, c.G, c.B) {
			t.Errorf("colour %v is blood", c)
		}
	}
}

var (
	white = color.RGBA{235, 238, 245, 255}
	skin  = color.RGBA{224, 172, 140, 255}
	blood = color.RGBA{150, 14, 18, 255}
)

// canvas returns a 100×100 image of white with the rectangles painted in c.
func canvas(c color.RGBA, rects ...image.Rectangle) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 100, 100))
	draw.Draw(img, img.Rect, image.NewUniform(white), image.Point{}, draw.Src)
	for _, r := range rects {
		draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
	}
	return img
}

func TestDetectAdultRules(t *testing.T) {
	tests := []struct {
		name     string
		img      image.Image
		want     bool
		wantRule string
	}{
		{"no skin", canvas(skin), false, "a:"},
		{"a: a face", canvas(skin, image.Rect(40, 40, 60, 70)), false, "a:"},
		// 16 squares of 100 pixels: 16% skin, no region dominates.
		{"b: scattered skin", canvas(skin, grid(4, 10, 25)...), false, "b:"},
		// 20% skin; the largest region 40% of it, the next two 30% each.
		{"c: no region large enough", canvas(skin, image.Rect(0, 0, 80, 10), image.Rect(0, 20, 60, 30), image.Rect(0, 40, 60, 50)), false, "c:"},
		// 17% skin, at two edges of a box that covers the image.
		{"d: sparse in its bounds", canvas(skin, image.Rect(0, 0, 15, 100), image.Rect(90, 0, 100, 20)), false, "d:"},
		{"f: a body", canvas(skin, image.Rect(20, 20, 80, 80)), true, "f:"},
		{"f: body and arms", canvas(skin, image.Rect(30, 10, 70, 90), image.Rect(10, 20, 20, 70), image.Rect(80, 20, 90, 70)), true, "f:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := DetectAdult(tt.img)
			if v.Illegal != tt.want || !strings.HasPrefix(v.Rule, tt.wantRule) {
				t.Errorf("got %+v, want illegal %v by rule %s", v, tt.want, tt.wantRule)
			}
		})
	}
}

// grid returns n×n squares of side s, step apart.
func grid(n, s, step int) []image.Rectangle {
	var rs []image.Rectangle
	for i := range n {
		for j := range n {
			rs = append(rs, image.Rect(i*step, j*step, i*step+s, j*step+s))
		}
	}
	return rs
}

func TestDetectViolenceRules(t *testing.T) {
	tests := []struct {
		name string
		img  image.Image
		want bool
	}{
		{"clean", canvas(blood), false},
		{"a red ball, 4%", canvas(blood, image.Rect(0, 0, 20, 20)), false},
		{"specks, 9% in 2-pixel regions", canvas(blood, grid(33, 1, 3)...), false},
		{"a stain, 9%", canvas(blood, image.Rect(10, 10, 40, 40)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := DetectViolence(tt.img); v.Illegal != tt.want {
				t.Errorf("got %+v, want illegal %v", v, tt.want)
			}
		})
	}
}

// TestDetectScenes runs both detectors over generated scenes: each fires
// exactly on the scenes drawn to make it fire. (With both flags the stain
// covers much of the skin, and only the violence detector has to fire.)
func TestDetectScenes(t *testing.T) {
	for seed := range uint64(2) {
		for _, s := range []Scene{{Seed: seed}, {Seed: seed, Adult: true}, {Seed: seed, Violence: true}, {Seed: seed, Adult: true, Violence: true}} {
			img, err := Render(s)
			if err != nil {
				t.Fatal(err)
			}
			if a := DetectAdult(img); a.Illegal != s.Adult && !s.Violence {
				t.Errorf("%+v: adult detector says %+v", s, a)
			}
			if v := DetectViolence(img); v.Illegal != s.Violence {
				t.Errorf("%+v: violence detector says %+v", s, v)
			}
		}
	}
}
