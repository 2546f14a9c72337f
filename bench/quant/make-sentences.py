#!/usr/bin/env python3
"""Writes the encoder calibration and held-out sentences of the quantizer quality table.

Deterministic template sentences from word lists written for this project (no external corpus, so no licence
question): a seeded random generator fills sentence patterns with subjects, verbs, objects, places, times and
topics. The two files are disjoint (a sentence drawn for one is never used for the other).
Usage: bench/quant/make-sentences.py  (re-running gives the same files)
"""
import os
import random

SUBJECTS = ["the old fisherman", "a young doctor", "my neighbour", "the science teacher", "a tired student",
            "the city council", "our small team", "the farmer", "a famous painter", "the night nurse",
            "the train driver", "a curious child", "the new manager", "two engineers", "the librarian",
            "a retired soldier", "the baker", "the school choir", "a local journalist", "the river guide"]
VERBS = ["repaired", "painted", "described", "sold", "carried", "measured", "photographed", "cleaned",
         "ordered", "studied", "borrowed", "designed", "found", "tested", "explained", "planted", "cooked",
         "wrote about", "moved", "returned"]
OBJECTS = ["a wooden boat", "the broken bridge", "an old map", "three bags of rice", "the kitchen window",
           "a blue bicycle", "the village clock", "a box of letters", "the solar panels", "a new recipe",
           "the hospital budget", "a rare butterfly", "the stone wall", "an electric guitar", "the football pitch",
           "a pile of books", "the water pump", "a winter coat", "the garden fence", "a silver teapot"]
PLACES = ["near the harbour", "in the mountains", "behind the station", "at the market", "in a quiet library",
          "on the island", "outside the museum", "in the desert", "by the lake", "in the old factory",
          "at the airport", "under the bridge", "in the forest", "on the top floor", "at the border"]
TIMES = ["yesterday", "last winter", "early this morning", "after the storm", "before dinner", "on Sunday",
         "during the holidays", "late at night", "in the spring", "two years ago"]
TOPICS = ["the price of bread", "climate change", "the election", "a chess tournament", "the history of Rome",
          "renewable energy", "the football final", "a new vaccine", "the housing market", "space travel",
          "ancient music", "the water supply", "online privacy", "the local zoo", "deep sea fishing"]
ADJ = ["surprising", "difficult", "boring", "useful", "expensive", "dangerous", "beautiful", "strange",
       "important", "simple"]
QUESTIONS = ["How do I fix {o}?", "Where can I buy {o} {p}?", "Why did {s} leave {p} {t}?",
             "What is the best way to learn about {topic}?", "Is it safe to travel {p} {t}?",
             "Who {v} {o} {t}?"]
PATTERNS = ["{S} {v} {o} {p} {t}.", "{T}, {s} {v} {o}.", "{S} thinks that {topic} is {a}.",
            "We talked about {topic} {p} {t}.", "{S} said the trip {p} was {a}.",
            "The report on {topic} was {a} and nobody read it.", "{S} {v} {o} because it was {a}.",
            "I heard that {s} {v} {o} {p}."]


def sentence(r):
    s, o, p, t = r.choice(SUBJECTS), r.choice(OBJECTS), r.choice(PLACES), r.choice(TIMES)
    f = dict(s=s, S=s[0].upper() + s[1:], v=r.choice(VERBS), o=o, p=p, t=t, T=t[0].upper() + t[1:],
             topic=r.choice(TOPICS), a=r.choice(ADJ))
    pat = r.choice(QUESTIONS) if r.random() < 0.2 else r.choice(PATTERNS)
    text = pat.format(**f)
    if r.random() < 0.3:   # a second clause makes lengths vary
        text += " " + r.choice(PATTERNS).format(**f)
    return text


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    r = random.Random(20261206)
    seen, out = set(), []
    while len(out) < 512 + 1200:
        s = sentence(r)
        if s not in seen:
            seen.add(s)
            out.append(s)
    with open(os.path.join(here, "encoder-calibration.txt"), "w") as f:
        f.write("\n".join(out[:512]) + "\n")
    with open(os.path.join(here, "encoder-heldout.txt"), "w") as f:
        f.write("\n".join(out[512:]) + "\n")


if __name__ == "__main__":
    main()
