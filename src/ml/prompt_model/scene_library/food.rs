//! Library settings: food and cooking ingredients.

use super::{entry, SettingEntry};

/// The food and cooking ingredients settings.
pub const FOOD: &[SettingEntry] = &[
    entry(
        "a rustic farmhouse kitchen",
        &[
            "a weathered oak table",
            "a worn butcher block",
            "a floured wooden board",
            "a slate serving board",
        ],
        &[
            "a sprig of rosemary",
            "garlic bulbs and peppercorns",
            "a linen tea towel",
            "fresh tomatoes on the vine",
            "a wicker basket of eggs",
        ],
    ),
    entry(
        "a modern white kitchen",
        &[
            "a white quartz countertop",
            "a pale ash chopping board",
            "a glossy tiled counter",
        ],
        &[
            "fresh basil leaves",
            "halved lemons",
            "a bowl of cherry tomatoes",
            "a sprinkle of sea salt",
        ],
    ),
    entry(
        "a sunny mediterranean terrace",
        &[
            "a blue mosaic table",
            "a sun-bleached wooden table",
            "a terracotta tile ledge",
        ],
        &[
            "olive branches",
            "ripe lemons with leaves",
            "a loaf of crusty bread",
            "a bowl of green olives",
            "sprigs of fresh thyme",
        ],
    ),
    entry(
        "a bustling farmers market",
        &[
            "a wooden produce crate",
            "a rough burlap sack",
            "a weathered market stall",
        ],
        &[
            "heaps of fresh vegetables",
            "bunches of radishes",
            "crates of ripe apples",
            "a woven wicker basket",
        ],
    ),
    entry(
        "an italian trattoria kitchen",
        &[
            "a floured marble slab",
            "a worn walnut table",
            "a red checked tablecloth",
        ],
        &[
            "fresh pasta nests",
            "ripe tomatoes and basil",
            "a wedge of hard cheese",
            "peeled garlic cloves",
            "a drizzle of olive oil",
        ],
    ),
    entry(
        "a warm village bakery",
        &[
            "a floury wooden counter",
            "a marble pastry slab",
            "a wire cooling rack",
        ],
        &[
            "fresh croissants",
            "a dusting of flour",
            "golden bread loaves",
            "golden wheat stalks",
        ],
    ),
    entry(
        "a bustling asian street kitchen",
        &[
            "a dark slate counter",
            "a woven bamboo mat",
            "a worn wooden bench",
        ],
        &[
            "sliced spring onions",
            "red chilli peppers",
            "star anise and fresh ginger",
            "a bowl of steamed rice",
        ],
    ),
    entry(
        "a colorful spice bazaar",
        &[
            "a hammered brass tray",
            "a carved wooden table",
            "a woven jute mat",
        ],
        &[
            "heaps of ground spices",
            "cinnamon sticks",
            "dried red chillies",
            "star anise pods",
            "saffron threads",
        ],
    ),
    entry(
        "a stainless steel restaurant kitchen",
        &[
            "a brushed steel counter",
            "a heavy wooden chopping block",
            "a black granite worktop",
        ],
        &[
            "bunches of fresh herbs",
            "sliced red onions",
            "a sprinkle of flaky salt",
            "cracked black peppercorns",
        ],
    ),
    entry(
        "a countryside picnic meadow",
        &[
            "a red gingham blanket",
            "a wicker hamper lid",
            "a grassy tree stump",
        ],
        &[
            "fresh strawberries",
            "a loaf of sourdough",
            "wildflowers in the grass",
            "a wedge of cheese",
            "a jar of honey",
        ],
    ),
    entry(
        "a sunny apiary garden",
        &[
            "a weathered beehive lid",
            "a wooden garden bench",
            "a sun-warmed stone wall",
        ],
        &[
            "pieces of honeycomb",
            "a wooden honey dipper",
            "lavender sprigs",
            "wild clover blossoms",
            "a few honey bees",
        ],
    ),
    entry(
        "a bright breakfast nook",
        &[
            "a light birch table",
            "a white ceramic plate",
            "a linen placemat",
        ],
        &[
            "fresh berries",
            "a bowl of granola",
            "sliced banana",
            "a scatter of oat flakes",
            "a drizzle of honey",
        ],
    ),
    entry(
        "a smoky barbecue patio",
        &[
            "a charred wooden plank",
            "a cast iron grill plate",
            "a rustic picnic table",
        ],
        &[
            "glowing embers",
            "sprigs of rosemary",
            "grilled corn on the cob",
            "chopped red chillies",
            "charred vegetables",
        ],
    ),
];
