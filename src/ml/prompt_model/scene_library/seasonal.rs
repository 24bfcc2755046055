//! Library settings: seasonal and festive: Christmas, spring, summer beach, autumn and more.

use super::{entry, SettingEntry};

/// The seasonal and festive settings.
pub const SEASONAL: &[SettingEntry] = &[
    entry(
        "a cosy christmas living room",
        &[
            "a knitted wool blanket",
            "a rustic wooden mantel",
            "a red tartan throw",
        ],
        &[
            "twinkling fairy lights",
            "pine branches and baubles",
            "wrapped gifts with ribbon",
            "candy canes",
            "a decorated tree in soft focus",
        ],
    ),
    entry(
        "a snowy winter cabin",
        &[
            "a frosted windowsill",
            "a snowy wooden bench",
            "a rough pine table",
        ],
        &[
            "falling snow outside",
            "pine cones and cinnamon sticks",
            "a crackling fire",
            "frosted fir branches",
        ],
    ),
    entry(
        "a festive christmas market",
        &[
            "a wooden market stall counter",
            "a snow-dusted crate",
            "a red felt table",
        ],
        &[
            "glowing string lights",
            "gingerbread cookies",
            "pine garlands",
            "roasted chestnuts",
        ],
    ),
    entry(
        "a glamorous new year ballroom",
        &[
            "a black lacquer table",
            "a gold sequin cloth",
            "a mirrored tray",
        ],
        &[
            "gold confetti",
            "champagne bubbles",
            "lit sparklers",
            "metallic balloons",
        ],
    ),
    entry(
        "a spring blossom orchard",
        &[
            "a mossy garden wall",
            "a white painted bench",
            "a grassy meadow bank",
        ],
        &[
            "cherry blossom branches",
            "fallen pink petals",
            "fresh tulips",
            "fluttering butterflies",
        ],
    ),
    entry(
        "a sunny easter morning kitchen",
        &[
            "a pastel linen tablecloth",
            "a white wooden table",
            "a woven nest of straw",
        ],
        &[
            "pastel painted eggs",
            "spring tulips",
            "yellow daffodils",
            "moss and twigs",
        ],
    ),
    entry(
        "a sunny tropical beach",
        &[
            "a patch of golden sand",
            "a weathered driftwood log",
            "a striped beach towel",
        ],
        &[
            "seashells and starfish",
            "palm leaf shadows",
            "turquoise waves",
            "a halved coconut",
        ],
    ),
    entry(
        "a breezy beach hut",
        &[
            "a whitewashed deck",
            "a pastel painted bench",
            "a woven beach mat",
        ],
        &[
            "striped towels",
            "scattered seashells",
            "sand dunes and sea grass",
            "a paper pinwheel",
        ],
    ),
    entry(
        "a golden autumn forest",
        &[
            "a carpet of fallen leaves",
            "a mossy log",
            "a weathered tree stump",
        ],
        &[
            "red and orange maple leaves",
            "acorns and chestnuts",
            "wild mushrooms",
            "misty tree trunks",
        ],
    ),
    entry(
        "a rustic harvest barn",
        &[
            "a weathered barn table",
            "a hay bale",
            "a plaid wool blanket",
        ],
        &[
            "small pumpkins and gourds",
            "dried corn husks",
            "red apples",
            "wheat sheaves",
        ],
    ),
    entry(
        "a spooky halloween porch",
        &[
            "a creaky wooden step",
            "a weathered porch table",
            "a straw bale",
        ],
        &[
            "carved pumpkins",
            "dusty cobwebs",
            "candle lanterns",
            "dry autumn leaves",
        ],
    ),
    entry(
        "a romantic candlelit dining room",
        &[
            "a white linen tablecloth",
            "a dark walnut table",
            "a velvet cushion",
        ],
        &[
            "red rose petals",
            "heart-shaped chocolates",
            "flickering tea lights",
            "a bouquet of red roses",
        ],
    ),
    entry(
        "a festive summer garden",
        &[
            "a long trestle table",
            "a striped linen cloth",
            "a grassy lawn",
        ],
        &[
            "paper lanterns",
            "jugs of lemonade",
            "colorful bunting",
            "summer flowers in jars",
        ],
    ),
    entry(
        "a festive lunar new year courtyard",
        &["a red lacquer table", "a gold silk runner", "a bamboo tray"],
        &[
            "red paper lanterns",
            "mandarin oranges with leaves",
            "plum blossom branches",
            "gold coins",
        ],
    ),
    entry(
        "a glowing diwali courtyard",
        &[
            "a carved wooden table",
            "a silk embroidered cloth",
            "a marble floor",
        ],
        &[
            "clay oil lamps",
            "marigold garlands",
            "flower petal rangoli",
            "sweets on a brass plate",
        ],
    ),
];
