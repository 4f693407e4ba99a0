"""Word lists for the offline story generators (our own; kept small and unambiguous)."""
from __future__ import annotations

NAMES = ("Avery", "Benjamin", "Charlotte", "Daniel", "Emma", "Felix", "Grace", "Henry", "Isla",
         "Jack", "Liam", "Mia", "Noah", "Olivia", "Peter", "Quinn", "Ruby", "Sophia", "Theo", "Zoe")
ROOMS = ("kitchen", "garden", "hallway", "office", "cellar", "bedroom", "lounge", "pantry room",
         "attic", "garage", "playroom", "laundry")
CONTAINERS = ("box", "basket", "drawer", "cupboard", "crate", "suitcase", "bucket", "envelope",
              "bottle", "bathtub", "pantry", "treasure chest", "tub", "bag", "case")
COLOURS = ("red", "green", "blue")
OBJECTS = ("apple", "banana", "carrot", "grapes", "lemon", "melon", "onion", "orange", "peach",
           "pear", "potato", "tomato", "cherry", "lettuce", "cucumber", "shoe", "hat", "scarf",
           "sweater", "belt", "slipper", "sock")
LIKES = ("likes", "dislikes", "hates", "loves")
THINGS = ("the cat", "the dog", "rainy days", "the radio", "green tea", "the painting", "jazz")
