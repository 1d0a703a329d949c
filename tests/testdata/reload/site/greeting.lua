return {text = "greeting-v1"}
