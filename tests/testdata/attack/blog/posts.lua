return {secret = "the blog's private module"}
