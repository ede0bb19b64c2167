// Fixed-point analysis (issue 3) is being written.
