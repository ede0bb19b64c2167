print("attractor")
