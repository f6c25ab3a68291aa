// Command extract reads the text of the recognizer workflow's image with
// tesseract (recognizer.OCR) and outputs it as a JSON string in text. It
// runs once both detectors found the image clean: their signals start_0
// and start_1 carry no data. It needs the tesseract program and its English
// model (Debian packages tesseract-ocr and tesseract-ocr-eng; make deps).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/faasflow/faasflow-go/benchmarks/recognizer"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	if _, err := recognizer.TesseractPath(); err != nil {
		// Say so in the instance's log at once; every run fails with it too.
		fmt.Fprintln(os.Stderr, "extract:", err)
	}
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		img, err := recognizer.InputImage(c)
		if err != nil {
			return err
		}
		text, err := recognizer.OCR(ctx, img)
		if err != nil {
			return err
		}
		return c.OutputJSON("text", text)
	})
}
