"""fourpi: tracks the impact of involving people with lived experience, by the 4PI National Involvement Standards."""
