return {text = "words-v1"}
