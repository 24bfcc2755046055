//! Library settings: drinks: coffee, tea, juice, wine, spirits, beer and milk.

use super::{entry, SettingEntry};

/// The drinks settings.
pub const DRINKS: &[SettingEntry] = &[
    entry(
        "a cosy coffee shop",
        &[
            "a dark walnut counter",
            "a reclaimed wood bar",
            "a marble cafe table",
        ],
        &[
            "scattered coffee beans",
            "a burlap coffee sack",
            "a cinnamon stick",
            "a dusting of cocoa powder",
        ],
    ),
    entry(
        "an industrial coffee roastery",
        &[
            "a steel roasting table",
            "a jute coffee sack",
            "a worn oak counter",
        ],
        &[
            "freshly roasted coffee beans",
            "a copper scoop",
            "stacked burlap sacks",
            "ripe red coffee cherries",
        ],
    ),
    entry(
        "a japanese tea room",
        &["a tatami mat", "a low cedar table", "a smooth river stone"],
        &[
            "loose green tea leaves",
            "a bamboo whisk",
            "a cherry blossom branch",
            "a folded linen cloth",
        ],
    ),
    entry(
        "an english country garden",
        &[
            "a wrought iron garden table",
            "a lace tablecloth",
            "a mossy stone bench",
        ],
        &[
            "scones with jam",
            "fresh garden roses",
            "a bowl of sugar cubes",
            "thin lemon slices",
        ],
    ),
    entry(
        "a tropical juice bar",
        &[
            "a turquoise tiled counter",
            "a bamboo bar top",
            "a woven rattan tray",
        ],
        &[
            "halved oranges",
            "pineapple slices",
            "fresh mint leaves",
            "clear ice cubes",
            "passion fruit halves",
        ],
    ),
    entry(
        "a sunlit citrus orchard",
        &[
            "a wooden fruit crate",
            "a sun-warmed stone wall",
            "a grassy orchard bank",
        ],
        &[
            "ripe oranges on branches",
            "glossy lemon leaves",
            "a halved grapefruit",
            "white orange blossoms",
        ],
    ),
    entry(
        "a candlelit wine cellar",
        &[
            "an old oak barrel",
            "a rough stone shelf",
            "a worn tasting table",
        ],
        &[
            "clusters of dark grapes",
            "scattered wine corks",
            "a wedge of aged cheese",
            "curling vine leaves",
        ],
    ),
    entry(
        "a vineyard at sunset",
        &[
            "a weathered wine crate",
            "a stone terrace wall",
            "a rustic picnic table",
        ],
        &[
            "bunches of red grapes",
            "vine leaves",
            "a linen napkin",
            "a board of cheese and figs",
        ],
    ),
    entry(
        "a dimly lit cocktail bar",
        &[
            "a polished mahogany bar",
            "a black marble bar top",
            "a brass-edged counter",
        ],
        &[
            "clear ice cubes",
            "citrus peel twists",
            "smoked rosemary sprigs",
            "dark cocktail cherries",
        ],
    ),
    entry(
        "a wood-panelled whisky lounge",
        &[
            "a dark walnut side table",
            "an old oak barrel head",
            "a leather-topped bar",
        ],
        &[
            "large clear ice cubes",
            "smoked oak chips",
            "dried orange slices",
            "a polished brass tray",
        ],
    ),
    entry(
        "a lively beer garden",
        &[
            "a long wooden bench table",
            "a beer barrel top",
            "a weathered picnic table",
        ],
        &[
            "a basket of pretzels",
            "fresh hop cones",
            "golden barley stalks",
            "a bowl of salted peanuts",
        ],
    ),
    entry(
        "a craft brewery taproom",
        &["a reclaimed wood bar", "a copper bar top", "a wooden keg"],
        &[
            "fresh green hop cones",
            "malted barley grains",
            "a bowl of roasted nuts",
            "a dish of pale malt",
        ],
    ),
    entry(
        "a sunny dairy farm",
        &[
            "a weathered farm table",
            "a hay bale",
            "a blue gingham cloth",
        ],
        &[
            "fresh wheat stalks",
            "a bowl of oats",
            "daisies in a jar",
            "a wedge of farmhouse cheese",
        ],
    ),
    entry(
        "a green alpine meadow",
        &[
            "a flat wooden stump",
            "a mossy boulder",
            "a woven picnic blanket",
        ],
        &[
            "wild mountain flowers",
            "fresh clover",
            "a wooden cow bell",
            "snowy peaks in the distance",
        ],
    ),
];
