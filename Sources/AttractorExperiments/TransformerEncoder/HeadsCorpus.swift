/// The default corpus of `attractor heads`: 40 English sentences written for this project (short
/// and long; statements, questions, lists, numbers, names, quotations), one per line. A copy for
/// reading and editing is `Docs/examples/heads-corpus.txt`; this literal is what an installed
/// binary uses, so it works without the repository.
public enum HeadsCorpus {
  public static let text = """
    The kettle clicked off just as the rain began.
    Where did you leave the blue umbrella?
    Mara counted 17 boats in the harbour before noon.
    Please bring apples, flour, butter, cinnamon and a pinch of salt.
    Is it true that octopuses have three hearts?
    The committee postponed its vote until the 4th of March, 2031.
    He said, "I will call you when the train reaches Lyon."
    Seven hundred and twelve volunteers planted trees along the river last spring.
    Why does bread go stale faster in the refrigerator than on the counter?
    Our neighbour's dog barks at every bicycle but ignores the postman entirely.
    The recipe needs 250 grams of sugar, 3 eggs and 2 cups of milk.
    Lena and Tomasz met at a chess club in Kraków and have played every Sunday since.
    After the power cut, the whole street gathered outside with candles, blankets and a guitar, and nobody wanted to go back in when the lights returned.
    Can a computer program ever understand a joke the way a child does?
    Turn left at the bakery, walk two blocks, and the library is on your right.
    The satellite completes one orbit every 96 minutes at an altitude of about 550 kilometres.
    I forgot my keys again.
    Which is heavier: a kilogram of feathers or a kilogram of iron?
    The old lighthouse keeper wrote a letter to the sea every evening, though he never sent a single one.
    Prices rose by 3.5 percent in July, the fastest increase in two years.
    Dr. Okafor explained that the vaccine trial enrolled 1,200 adults across nine hospitals.
    She painted the fence green, then changed her mind and painted it white.
    If the meeting runs late, start dinner without me and keep a plate warm.
    The violinist tuned her instrument, closed her eyes, and played the first notes of a piece nobody in the hall had heard before.
    Do penguins get cold feet?
    Mount Kilimanjaro, the highest mountain in Africa, rises to 5,895 metres.
    The children built a fort out of cushions, chairs, and an enormous cardboard box.
    Our flight from Oslo was delayed by three hours because of fog.
    What time does the museum open on public holidays?
    The new bridge will carry trains, cars and bicycles, but pedestrians must use the ferry until 2029.
    A good night's sleep improves memory, mood and concentration.
    Grandpa still fixes radios in his garage with tools older than my parents.
    The spreadsheet listed 42 invoices, of which 5 were overdue and 1 was disputed.
    Honestly, who puts pineapple on a pizza?
    When the river froze, the villagers skated to the market instead of taking the long road around the hill.
    The algorithm sorts a million numbers in under a second on an ordinary laptop.
    Bees communicate the direction of flowers to one another through a small dance.
    Rosa's bakery sells croissants, rye loaves, lemon tarts and, on Fridays, a famous plum cake.
    The storm knocked down two oak trees and left the village without electricity for a week, so the school closed and the shop ran out of candles.
    Thank you for the lovely dinner.
    """
}
