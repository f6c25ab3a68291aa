package recognizer

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestOCR reads generated scenes with tesseract; it fails (it does not
// skip) where tesseract is missing, with the packages to install.
func TestOCR(t *testing.T) {
	if _, err := TesseractPath(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		scene Scene
	}{
		{"clean", Scene{Seed: 1}},
		{"banned words", Scene{Seed: 7, Text: "VENDEMOS ARMAS Y DROGAS BARATAS EN LA ESQUINA"}},
		{"over skin", Scene{Seed: 2, Adult: true, Text: "TENGO UNA GRANADA DE MANO"}},
		{"four lines", Scene{Seed: 3, Violence: true, Text: "HOY HACE SOL EN LA CIUDAD\nEL TREN LLEGA A LAS OCHO\nLA TIENDA ABRE MANANA\nGRACIAS POR TU AYUDA!"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := tt.scene.Lines()
			if err != nil {
				t.Fatal(err)
			}
			img, err := Render(tt.scene)
			if err != nil {
				t.Fatal(err)
			}
			got, err := OCR(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Join(lines, "\n"); got != want {
				t.Errorf("OCR read %q, want %q", got, want)
			}
		})
	}
}

func TestOCRWithoutTesseract(t *testing.T) {
	t.Setenv("TESSERACT", "tesseract-that-is-not-installed")
	img, err := Render(Scene{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = OCR(context.Background(), img)
	if !errors.Is(err, ErrNoTesseract) {
		t.Fatalf("got error %v, want ErrNoTesseract", err)
	}
	for _, want := range []string{"tesseract-ocr", "tesseract-ocr-eng", "make deps"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestNormalizeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"EL GATO\n\nCOME  PESCADO \n\f", "EL GATO\nCOME PESCADO"},
		{"  hola\tmundo", "HOLA MUNDO"},
		{"\n \n", ""},
	}
	for _, tt := range tests {
		if got := NormalizeText(tt.in); got != tt.want {
			t.Errorf("NormalizeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
