package recognizer

import (
	"image"
	"image/color"
	"testing"
)

func TestPixelate(t *testing.T) {
	// 5×3 pixels in blocks of 2: full blocks, and smaller ones at the edges.
	img := image.NewRGBA(image.Rect(0, 0, 5, 3))
	for y := range 3 {
		for x := range 5 {
			img.SetRGBA(x, y, color.RGBA{uint8(10 * x), uint8(10 * y), 7, 255})
		}
	}
	m, err := Pixelate(img, 2)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		x, y int
		want color.RGBA
	}{
		{0, 0, color.RGBA{5, 5, 7, 255}},   // mean of x 0,10 and y 0,10
		{3, 1, color.RGBA{25, 5, 7, 255}},  // x 20,30
		{4, 0, color.RGBA{40, 5, 7, 255}},  // right edge: one column
		{1, 2, color.RGBA{5, 20, 7, 255}},  // bottom edge: one row
		{4, 2, color.RGBA{40, 20, 7, 255}}, // corner: one pixel
	}
	for _, tt := range tests {
		if got := m.RGBAAt(tt.x, tt.y); got != tt.want {
			t.Errorf("pixel (%d,%d) = %v, want %v", tt.x, tt.y, got, tt.want)
		}
	}
	if !Uniform(m, 2) {
		t.Error("mosaic has a block of several colours")
	}
	if Uniform(img, 2) {
		t.Error("the original counts as a mosaic")
	}
	if _, err := Pixelate(img, 0); err == nil {
		t.Error("pixelated with blocks of 0 pixels")
	}
}

func TestPixelateScene(t *testing.T) {
	img, err := Render(Scene{Seed: 1, Violence: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Pixelate(img, MosaicBlock)
	if err != nil {
		t.Fatal(err)
	}
	if !Uniform(m, MosaicBlock) || m.Rect != img.Rect {
		t.Fatalf("not a %d-pixel mosaic of the %v image", MosaicBlock, img.Rect)
	}
	// The text can no longer be read: no pixel is ink any more.
	if n := Binarize(m); !allWhite(n) {
		t.Error("ink survived the mosaic")
	}
}

func allWhite(g *image.Gray) bool {
	for _, v := range g.Pix {
		if v != 255 {
			return false
		}
	}
	return true
}
