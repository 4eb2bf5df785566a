"""Using a trained run: predict, evaluate on new data, export for serving."""
