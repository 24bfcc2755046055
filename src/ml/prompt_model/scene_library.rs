//! A curated library of background phrases for constrained decoding of the
//! background suggestions.
//!
//! The prompt model (SmolLM2-135M) plans an ad background in five slots:
//! setting, surface, props, light and mood. Free text from so small a model
//! is often incoherent, so its decoding is constrained to the phrases listed
//! here. The model first picks a [`SettingEntry::setting`] among a shortlist
//! of [`SETTINGS`] chosen by sentence-embedding similarity to the product
//! title, then a surface and props from that setting's own lists (so they
//! belong together), then a light from [`LIGHTS`] and a mood from [`MOODS`].
//! The Stable Diffusion prompt is assembled as
//! `"{surface} in {setting}, with {props}, {light}, {mood} mood"`, e.g.
//! "a white marble countertop in a sunlit bathroom, with eucalyptus sprigs
//! and a rolled towel, soft morning light, fresh mood".
//!
//! Every phrase is lower-case plain ASCII without commas (commas separate
//! the assembled parts). Props are scene dressing only: no advertised
//! product type on its own, no brand, no people, no text or logos.
//!
//! The library was written by hand for this project, without looking at the
//! evaluation titles.

/// One setting with the surfaces and props that belong in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingEntry {
    /// The place, reading naturally after "in" ("a sunlit bathroom").
    pub setting: &'static str,
    /// What the product stands or lies on in that place (3 to 5 phrases).
    pub surfaces: &'static [&'static str],
    /// Scene dressing around the product in that place (4 to 6 phrases).
    pub props: &'static [&'static str],
}

const fn entry(
    setting: &'static str,
    surfaces: &'static [&'static str],
    props: &'static [&'static str],
) -> SettingEntry {
    SettingEntry {
        setting,
        surfaces,
        props,
    }
}

/// The settings, grouped by product area (studio settings last).
pub const SETTINGS: &[SettingEntry] = &[
    // Personal care and beauty.
    entry(
        "a sunlit bathroom",
        &[
            "a white marble countertop",
            "a polished stone vanity",
            "a teak bath caddy",
            "a tiled bathroom shelf",
        ],
        &[
            "eucalyptus sprigs and a rolled towel",
            "a folded cotton towel",
            "smooth river pebbles",
            "a small sprig of lavender",
            "fresh water droplets",
        ],
    ),
    entry(
        "a luxurious spa retreat",
        &[
            "a smooth slate stone",
            "a bamboo tray",
            "a warm basalt slab",
            "a folded white towel",
        ],
        &[
            "stacked black massage stones",
            "white orchid blossoms",
            "floating rose petals",
            "a bowl of sea salt",
            "a wisp of steam",
        ],
    ),
    entry(
        "a pastel dressing room",
        &[
            "a glossy pink vanity top",
            "a mirrored glass tray",
            "a white lacquered shelf",
        ],
        &[
            "pink peony blooms",
            "a silk ribbon",
            "loose rose petals",
            "a gilded oval mirror",
            "soft tulle fabric",
        ],
    ),
    entry(
        "a botanical greenhouse",
        &[
            "a weathered potting bench",
            "a terracotta tile",
            "a mossy stone ledge",
        ],
        &[
            "curling fern fronds",
            "fresh aloe vera leaves",
            "trailing ivy",
            "dewy green leaves",
            "a terracotta pot of herbs",
        ],
    ),
    entry(
        "a minimalist concrete bathroom",
        &[
            "a grey concrete ledge",
            "a pale oak shelf",
            "a matte ceramic tray",
        ],
        &[
            "a single monstera leaf",
            "a folded linen towel",
            "smooth white pebbles",
            "dried pampas grass stems",
        ],
    ),
    entry(
        "a bright seaside bathhouse",
        &[
            "a whitewashed wooden shelf",
            "a sandy stone ledge",
            "a blue mosaic tile",
        ],
        &[
            "scattered seashells",
            "coarse sea salt crystals",
            "a striped cotton towel",
            "pieces of driftwood",
            "a dried starfish",
        ],
    ),
    entry(
        "a vintage barbershop",
        &[
            "a dark walnut counter",
            "a black marble ledge",
            "a leather-topped shelf",
        ],
        &[
            "a folded hot towel",
            "cedar wood shavings",
            "a small brass dish",
            "a sprig of rosemary",
            "a wisp of steam",
        ],
    ),
    entry(
        "a rose garden at dawn",
        &[
            "a weathered stone pedestal",
            "a mossy garden wall",
            "a white wrought iron table",
        ],
        &[
            "fresh pink roses",
            "dewy rose petals",
            "a silk ribbon",
            "trailing jasmine flowers",
        ],
    ),
    entry(
        "an elegant boudoir",
        &[
            "a mirrored vanity tray",
            "a cream velvet ottoman",
            "a gold-rimmed glass shelf",
        ],
        &[
            "fresh white peonies",
            "a small crystal dish",
            "soft feather plumes",
            "draped ivory silk",
        ],
    ),
    // Food and cooking ingredients.
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
    // Drinks: coffee, tea, juice, wine, spirits, beer and milk.
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
    // Furniture.
    entry(
        "a bright scandinavian living room",
        &[
            "a light oak floor",
            "a woven wool rug",
            "a white birch plank floor",
        ],
        &[
            "a sheepskin throw",
            "a potted fiddle leaf fig",
            "linen cushions",
            "a stack of design books",
        ],
    ),
    entry(
        "a mid-century modern lounge",
        &[
            "a walnut parquet floor",
            "a mustard wool rug",
            "a terrazzo floor",
        ],
        &[
            "a tall snake plant",
            "a stack of vinyl records",
            "geometric wall art",
            "a knitted throw",
        ],
    ),
    entry(
        "an airy loft apartment",
        &[
            "a polished concrete floor",
            "a wide plank oak floor",
            "a jute area rug",
        ],
        &[
            "exposed brick walls",
            "tall arched windows",
            "a trailing pothos",
            "a stack of magazines",
        ],
    ),
    entry(
        "a cosy reading nook",
        &[
            "a thick shag rug",
            "a worn oak floor",
            "a window seat cushion",
        ],
        &[
            "a stack of old books",
            "a chunky knit blanket",
            "a trailing ivy plant",
            "warm fairy lights",
        ],
    ),
    entry(
        "a luxurious hotel suite",
        &[
            "a herringbone parquet floor",
            "a cream silk rug",
            "a polished marble floor",
        ],
        &[
            "tall velvet curtains",
            "fresh white orchids",
            "a gold-framed mirror",
            "a crystal chandelier glow",
        ],
    ),
    entry(
        "a japandi bedroom",
        &[
            "a pale oak floor",
            "a woven tatami mat",
            "a light ash floor",
        ],
        &[
            "a paper lantern",
            "a ceramic vase of branches",
            "a folded linen throw",
            "a small bonsai tree",
        ],
    ),
    entry(
        "a sunlit bohemian lounge",
        &[
            "a patterned kilim rug",
            "a worn terracotta floor",
            "a rattan floor mat",
        ],
        &[
            "macrame wall hangings",
            "hanging trailing plants",
            "embroidered floor cushions",
            "woven seagrass baskets",
        ],
    ),
    entry(
        "a sunny garden patio",
        &[
            "a stone paved patio",
            "a teak deck",
            "a weathered brick terrace",
        ],
        &[
            "potted olive trees",
            "climbing roses",
            "outdoor linen cushions",
            "a string of festoon lights",
        ],
    ),
    entry(
        "a grand country manor hall",
        &[
            "a checkerboard marble floor",
            "a faded persian rug",
            "a polished oak floor",
        ],
        &[
            "landscape paintings in gilded frames",
            "a sweeping staircase",
            "a vase of garden flowers",
            "tall sash windows",
        ],
    ),
    // Home and kitchen.
    entry(
        "a sleek open-plan kitchen",
        &[
            "a grey quartz island",
            "a black granite countertop",
            "a walnut breakfast bar",
        ],
        &[
            "a bowl of green apples",
            "fresh herbs in pots",
            "a pile of fresh lemons",
            "a folded tea towel",
        ],
    ),
    entry(
        "a cosy country cottage",
        &[
            "a scrubbed pine table",
            "a lace doily",
            "a stone windowsill",
        ],
        &[
            "a jug of wildflowers",
            "gingham curtains",
            "a basket of knitting wool",
            "dried lavender bunches",
        ],
    ),
    entry(
        "a tidy laundry room",
        &[
            "a white wooden shelf",
            "a stack of folded towels",
            "a woven laundry basket lid",
        ],
        &[
            "fresh white linens",
            "a sprig of lavender",
            "dried cotton stems",
            "soap flakes in a jar",
        ],
    ),
    entry(
        "a serene white bedroom",
        &[
            "a crisp linen duvet",
            "a bedside oak table",
            "a soft wool throw",
        ],
        &[
            "fluffy pillows",
            "a sprig of eucalyptus",
            "a stack of novels",
            "sheer white curtains",
        ],
    ),
    entry(
        "an elegant dining room",
        &[
            "a polished walnut dining table",
            "a white linen tablecloth",
            "a marble serving board",
        ],
        &[
            "a low floral centerpiece",
            "folded linen napkins",
            "scattered rose petals",
            "tall windows with drapes",
        ],
    ),
    entry(
        "a well-stocked pantry",
        &[
            "a wooden pantry shelf",
            "a marble slab shelf",
            "a woven basket lid",
        ],
        &[
            "glass jars of grains",
            "dried pasta",
            "bunches of dried herbs",
            "a sack of flour",
        ],
    ),
    entry(
        "a plant-filled living room",
        &[
            "a low oak coffee table",
            "a marble side table",
            "a woven jute rug",
        ],
        &[
            "trailing pothos vines",
            "monstera leaves",
            "a stack of coffee table books",
            "linen cushions",
        ],
    ),
    // Toys, kids and baby.
    entry(
        "a colorful playroom",
        &[
            "a soft foam play mat",
            "a low wooden shelf",
            "a rainbow striped rug",
        ],
        &[
            "pom pom garlands",
            "paper stars",
            "pastel balloons",
            "a painted rainbow mural",
        ],
    ),
    entry(
        "a soft pastel nursery",
        &[
            "a white wooden dresser top",
            "a knitted cotton blanket",
            "a cloud-shaped rug",
        ],
        &[
            "a mobile of felt stars",
            "cotton flower garlands",
            "a sheer canopy",
            "pastel paper bunting",
        ],
    ),
    entry(
        "a scandinavian kids bedroom",
        &[
            "a pale birch floor",
            "a round woven rug",
            "a white painted shelf",
        ],
        &[
            "a mountain wall mural",
            "a string of felt balls",
            "a fluffy sheepskin",
            "paper star lanterns",
        ],
    ),
    entry(
        "a sunny backyard lawn",
        &[
            "a freshly mown lawn",
            "a checked picnic blanket",
            "a wooden deck",
        ],
        &[
            "daisies in the grass",
            "soap bubbles in the air",
            "a white picket fence",
            "a leafy apple tree",
        ],
    ),
    entry(
        "a pastel birthday party room",
        &[
            "a pastel party table",
            "a striped paper tablecloth",
            "a white painted bench",
        ],
        &[
            "pastel balloons",
            "scattered confetti",
            "paper streamers",
            "cupcakes with sprinkles",
        ],
    ),
    entry(
        "an enchanted fairytale forest",
        &[
            "a mossy tree stump",
            "a carpet of soft moss",
            "a fallen birch log",
        ],
        &[
            "red spotted toadstools",
            "glowing fireflies",
            "ferns and acorns",
            "a tiny wooden door",
        ],
    ),
    entry(
        "a soft white baby bathroom",
        &[
            "a white tiled ledge",
            "a soft hooded towel",
            "a bamboo bath tray",
        ],
        &[
            "floating soap bubbles",
            "a folded muslin cloth",
            "dried cotton flowers",
            "a bowl of cotton balls",
        ],
    ),
    entry(
        "a bright arts and crafts corner",
        &[
            "a paint-splattered table",
            "a kraft paper mat",
            "a low pine table",
        ],
        &[
            "bright paint splashes",
            "a string of paper garlands",
            "paper cut-out shapes",
            "colorful pom poms",
        ],
    ),
    entry(
        "a starry space-themed bedroom",
        &[
            "a navy blue rug",
            "a white painted shelf",
            "a midnight blue desk",
        ],
        &[
            "glowing paper stars",
            "a planet mobile",
            "a string of star lights",
            "a moon-shaped lamp glow",
        ],
    ),
    // Fashion: bags, shoes, clothes, watches, jewellery.
    entry(
        "a chic parisian street",
        &[
            "a cobblestone pavement",
            "a wrought iron cafe table",
            "a stone doorstep",
        ],
        &[
            "fallen plane tree leaves",
            "a bouquet of tulips",
            "a striped cafe awning",
            "a croissant on a plate",
        ],
    ),
    entry(
        "an upscale fashion boutique",
        &[
            "a glass display plinth",
            "a white marble pedestal",
            "a velvet display cushion",
        ],
        &[
            "a brass clothing rail",
            "softly draped silk",
            "fresh white lilies",
            "gold-framed mirrors",
        ],
    ),
    entry(
        "a white art gallery",
        &[
            "a white cube plinth",
            "a polished concrete floor",
            "a pale stone pedestal",
        ],
        &[
            "abstract sculptures",
            "a single dried branch",
            "long shadows on walls",
            "a framed abstract canvas",
        ],
    ),
    entry(
        "an urban rooftop at dusk",
        &[
            "a weathered concrete ledge",
            "a wooden rooftop deck",
            "a steel bench",
        ],
        &[
            "city skyline bokeh",
            "strings of lights",
            "potted ornamental grasses",
            "a scatter of autumn leaves",
        ],
    ),
    entry(
        "a gritty urban alley",
        &[
            "a cracked asphalt ground",
            "a concrete curb",
            "a rusted metal crate",
        ],
        &[
            "puddle reflections",
            "a chain link fence",
            "a stack of wooden pallets",
            "a soft neon glow",
        ],
    ),
    entry(
        "an elegant jewellery atelier",
        &[
            "a black velvet cushion",
            "a polished marble slab",
            "a mirrored glass tray",
        ],
        &[
            "scattered rose petals",
            "a silk ribbon",
            "a small crystal dish",
            "soft satin folds",
        ],
    ),
    entry(
        "a sunlit walk-in wardrobe",
        &[
            "a tufted velvet ottoman",
            "a pale oak shelf",
            "a cream wool rug",
        ],
        &[
            "soft linen drapes",
            "dried pampas grass",
            "a round brass mirror",
            "stacked hat boxes",
        ],
    ),
    entry(
        "a watchmaker's workshop",
        &[
            "a green leather desk mat",
            "a brass-edged workbench",
            "a dark walnut tray",
        ],
        &[
            "scattered brass gears",
            "a jeweller's loupe",
            "a folded chamois cloth",
            "a tin of tiny screws",
        ],
    ),
    entry(
        "a gentleman's study",
        &[
            "a leather-topped desk",
            "a dark mahogany table",
            "a walnut valet tray",
        ],
        &[
            "a glowing fireplace",
            "leather-bound books",
            "an antique globe",
            "a cedar cigar box",
        ],
    ),
    entry(
        "an autumn city park",
        &[
            "a wooden park bench",
            "a gravel path",
            "a carpet of fallen leaves",
        ],
        &[
            "golden maple leaves",
            "conkers and acorns",
            "a wrought iron lamppost",
            "shiny chestnuts",
        ],
    ),
    entry(
        "a sleek fashion runway",
        &[
            "a glossy white runway",
            "a mirrored catwalk floor",
            "a black lacquered plinth",
        ],
        &[
            "rows of empty chairs",
            "spotlight beams",
            "scattered flower petals",
            "draped satin",
        ],
    ),
    // Sports and outdoors: hiking, cycling, fitness, camping, swimming, winter.
    entry(
        "a misty pine forest trail",
        &[
            "a mossy granite rock",
            "a fallen pine log",
            "a bed of pine needles",
        ],
        &[
            "scattered pine cones",
            "curling fern fronds",
            "morning mist between trees",
            "wild mushrooms",
        ],
    ),
    entry(
        "a rugged mountain summit",
        &[
            "a lichen-covered boulder",
            "a flat granite slab",
            "a rocky ledge",
        ],
        &[
            "distant snowy peaks",
            "a stone cairn",
            "tufts of alpine grass",
            "drifting clouds",
        ],
    ),
    entry(
        "an alpine lake shore",
        &[
            "a smooth lakeside boulder",
            "a weathered wooden dock",
            "a pebbled shoreline",
        ],
        &[
            "pine branches",
            "still water reflections",
            "wild mountain flowers",
            "pieces of driftwood",
        ],
    ),
    entry(
        "a winding country road",
        &[
            "a sun-warmed asphalt road",
            "a gravel road shoulder",
            "a low stone wall",
        ],
        &[
            "rolling green hills",
            "wildflowers along the verge",
            "a wooden farm gate",
            "red poppies in the grass",
        ],
    ),
    entry(
        "a mountain bike trail",
        &["a packed dirt trail", "a root-covered log", "a rocky berm"],
        &[
            "muddy tire tracks",
            "fallen leaves",
            "slender birch trees",
            "dust in the air",
        ],
    ),
    entry(
        "a modern home gym",
        &[
            "a black rubber gym floor",
            "a wooden plyo box",
            "a grey foam mat",
        ],
        &[
            "a rolled gym towel",
            "a dusting of chalk",
            "a leafy plant",
            "a mirrored wall",
        ],
    ),
    entry(
        "an industrial fitness studio",
        &[
            "a rubber tiled floor",
            "a weathered wooden bench",
            "a concrete ledge",
        ],
        &[
            "industrial steel beams",
            "chalk dust in the air",
            "exposed brick walls",
            "large factory windows",
        ],
    ),
    entry(
        "a calm yoga studio",
        &[
            "a pale wooden floor",
            "a folded cotton blanket",
            "a smooth stone slab",
        ],
        &[
            "a trailing pothos",
            "a wisp of incense smoke",
            "smooth river stones",
            "a brass singing bowl",
            "dried palm leaves",
        ],
    ),
    entry(
        "a lakeside campsite",
        &[
            "a flat granite boulder",
            "a split log bench",
            "a plaid wool blanket",
        ],
        &[
            "a crackling campfire",
            "scattered pine cones",
            "a stack of firewood",
            "toasted marshmallows on sticks",
        ],
    ),
    entry(
        "a starry desert campsite",
        &[
            "a red sandstone rock",
            "a dusty woven rug",
            "a weathered wooden crate",
        ],
        &[
            "a glowing campfire",
            "dry desert shrubs",
            "a string of lanterns",
            "scattered smooth stones",
        ],
    ),
    entry(
        "an outdoor swimming pool",
        &[
            "a white tiled pool edge",
            "a teak sun lounger",
            "a sun-warmed stone deck",
        ],
        &[
            "rippling turquoise water",
            "a striped towel",
            "a slice of watermelon",
            "palm leaf shadows",
        ],
    ),
    entry(
        "a rocky ocean cove",
        &[
            "a wet black rock",
            "a sandy rock ledge",
            "a weathered driftwood log",
        ],
        &[
            "crashing waves",
            "strands of seaweed",
            "scattered seashells",
            "a fine sea spray",
        ],
    ),
    entry(
        "a snowy mountain slope",
        &[
            "a packed snowdrift",
            "an icy boulder",
            "a frosted wooden bench",
        ],
        &[
            "snow-covered fir trees",
            "falling snowflakes",
            "ski tracks in the snow",
            "frosted pine cones",
        ],
    ),
    entry(
        "a cosy ski lodge",
        &[
            "a rough-hewn pine table",
            "a sheepskin rug",
            "a stone hearth",
        ],
        &[
            "a crackling fireplace",
            "a knitted wool blanket",
            "steaming hot cocoa",
            "stacked firewood",
        ],
    ),
    entry(
        "a sunny tennis court",
        &[
            "a green hard court",
            "a red clay court",
            "a white wooden bench",
        ],
        &[
            "a net in soft focus",
            "long court shadows",
            "a chain link fence",
            "a rolled white towel",
        ],
    ),
    entry(
        "an outdoor basketball court",
        &[
            "a painted asphalt court",
            "a concrete bench",
            "a weathered court edge",
        ],
        &[
            "a chain net hoop",
            "long evening shadows",
            "city buildings behind",
            "a chain link fence",
        ],
    ),
    entry(
        "a riverside running path",
        &[
            "a packed gravel path",
            "a wooden footbridge",
            "a low stone wall",
        ],
        &[
            "flowing river water",
            "tall reeds",
            "morning mist",
            "blossoming cherry trees",
        ],
    ),
    entry(
        "a frozen winter lake",
        &[
            "a clear sheet of ice",
            "a snowy fallen log",
            "a frosted wooden dock",
        ],
        &[
            "snow-dusted pines",
            "falling snowflakes",
            "hanging icicles",
            "delicate frost crystals",
        ],
    ),
    entry(
        "a sunny football pitch",
        &[
            "a freshly cut grass pitch",
            "a white painted bench",
            "a patch of artificial turf",
        ],
        &[
            "a goal net in soft focus",
            "crisp white pitch lines",
            "long afternoon shadows",
            "empty stadium seats",
        ],
    ),
    // Electronics: phones, audio, laptops, cameras, smart home, gaming.
    entry(
        "a sleek modern workspace",
        &[
            "a white oak desk",
            "a matte black desk",
            "a grey felt desk mat",
        ],
        &[
            "a small succulent",
            "a sprig of dried eucalyptus",
            "a small ceramic dish",
            "window blind shadows",
        ],
    ),
    entry(
        "a neon-lit gaming room",
        &[
            "a glossy black desk",
            "a dark ribbed desk mat",
            "a black carbon shelf",
        ],
        &[
            "purple and blue neon strips",
            "acoustic foam panels",
            "a small potted cactus",
            "glowing led light strips",
        ],
    ),
    entry(
        "a futuristic tech lab",
        &[
            "a brushed aluminium table",
            "a glossy white plinth",
            "a glass tabletop",
        ],
        &[
            "glowing circuit patterns",
            "thin light beams",
            "chrome geometric shapes",
            "holographic reflections",
        ],
    ),
    entry(
        "a cosy music studio",
        &["a dark oak desk", "a woven wool rug", "a walnut sideboard"],
        &[
            "a stack of vinyl records",
            "acoustic wall panels",
            "a small monstera",
            "warm fairy lights",
        ],
    ),
    entry(
        "a bright modern living room",
        &[
            "a white lacquered sideboard",
            "a light oak shelf",
            "a grey stone coffee table",
        ],
        &[
            "a leafy fiddle leaf fig",
            "a vase of dried flowers",
            "linen cushions",
            "a soft grey throw",
        ],
    ),
    entry(
        "a photographer's loft studio",
        &[
            "a weathered wooden crate",
            "a dark slate table",
            "a worn leather trunk",
        ],
        &[
            "a rolled canvas backdrop",
            "a softbox glow",
            "a coil of leather cord",
            "a brass compass",
        ],
    ),
    entry(
        "a neon city at night",
        &[
            "a wet asphalt rooftop",
            "a glass balcony ledge",
            "a concrete parapet",
        ],
        &[
            "neon bokeh lights",
            "rain droplets",
            "a glowing city skyline",
            "reflections in puddles",
        ],
    ),
    entry(
        "a sunlit coworking space",
        &[
            "a long oak communal table",
            "a white standing desk",
            "a concrete bar counter",
        ],
        &[
            "a cup of flat white",
            "hanging pendant lights",
            "potted trailing plants",
            "a bowl of fresh fruit",
        ],
    ),
    entry(
        "a dark tech showroom",
        &[
            "a black glass plinth",
            "a glossy dark floor",
            "a brushed steel pedestal",
        ],
        &[
            "thin blue light lines",
            "soft reflections",
            "geometric shadows",
            "dust floating in beams",
        ],
    ),
    entry(
        "a cosy living room at night",
        &[
            "a walnut media console",
            "a deep velvet sofa cushion",
            "a thick wool rug",
        ],
        &[
            "a flickering fireplace",
            "a bowl of popcorn",
            "a knitted throw blanket",
            "warm fairy lights",
        ],
    ),
    entry(
        "a calm modern bedroom",
        &[
            "a walnut bedside table",
            "a crisp white duvet",
            "a marble nightstand top",
        ],
        &[
            "a small vase of wildflowers",
            "a stack of paperbacks",
            "a sprig of eucalyptus",
            "soft linen curtains",
        ],
    ),
    // Pets.
    entry(
        "a sunny pet-friendly living room",
        &["a worn oak floor", "a soft wool rug", "a low window seat"],
        &[
            "stray tufts of fur",
            "a sunny window",
            "a leafy houseplant",
            "muddy paw prints",
        ],
    ),
    entry(
        "a green dog park",
        &["a freshly cut lawn", "a wooden park bench", "a gravel path"],
        &[
            "yellow dandelions",
            "a wooden fence",
            "muddy paw prints",
            "leafy oak trees",
        ],
    ),
    entry(
        "a cosy cat nook",
        &["a sunny windowsill", "a woven wool rug", "a sisal mat"],
        &[
            "a ball of yarn",
            "fresh catnip leaves",
            "a single feather",
            "a pot of cat grass",
        ],
    ),
    entry(
        "an underwater coral reef",
        &[
            "a sandy sea floor",
            "a smooth coral rock",
            "a flat reef stone",
        ],
        &[
            "swaying sea grass",
            "tropical fish",
            "rising air bubbles",
            "branches of coral",
        ],
    ),
    entry(
        "a rustic farmyard",
        &[
            "a straw bale",
            "a weathered barn floor",
            "a wooden cart bed",
        ],
        &[
            "scattered straw",
            "a rustic barn door",
            "wildflowers by the fence",
            "a tin bucket",
        ],
    ),
    entry(
        "a bright pet grooming salon",
        &[
            "a white grooming table",
            "a tiled counter",
            "a soft fleece mat",
        ],
        &[
            "fluffy towels",
            "tufts of fur",
            "soap bubbles",
            "a wicker basket",
        ],
    ),
    entry(
        "a leafy bird garden",
        &[
            "a mossy branch",
            "a stone birdbath rim",
            "a weathered fence post top",
        ],
        &[
            "sunflower seeds",
            "berry-laden branches",
            "soft feathers",
            "trailing ivy",
        ],
    ),
    // Garden and tools.
    entry(
        "a lush cottage garden",
        &[
            "a weathered potting bench",
            "a mossy brick path",
            "a stone garden step",
        ],
        &[
            "foxgloves and roses",
            "stacked terracotta pots",
            "a coil of garden twine",
            "a trug of fresh vegetables",
        ],
    ),
    entry(
        "a rustic garden shed",
        &[
            "a rough wooden workbench",
            "an upturned terracotta pot",
            "a weathered plank shelf",
        ],
        &[
            "hanging dried herbs",
            "a ball of jute twine",
            "soil-covered seedlings",
            "old clay pots",
        ],
    ),
    entry(
        "a sunny vegetable patch",
        &[
            "a raised wooden bed edge",
            "a bed of dark soil",
            "a bed of straw",
        ],
        &[
            "rows of lettuce",
            "tomato vines",
            "young pea shoots",
            "a wooden trug",
        ],
    ),
    entry(
        "a woodworking workshop",
        &[
            "a scarred oak workbench",
            "a pine plank floor",
            "a sturdy sawhorse",
        ],
        &[
            "curled wood shavings",
            "a dusting of sawdust",
            "a pegboard wall",
            "timber offcuts",
        ],
    ),
    entry(
        "a modern garage workshop",
        &[
            "a steel workbench",
            "an epoxy coated floor",
            "a wooden tool chest top",
        ],
        &[
            "sawdust on the floor",
            "neatly coiled cables",
            "stacked timber boards",
            "wood offcuts",
        ],
    ),
    entry(
        "a sunlit greenhouse",
        &[
            "a slatted potting table",
            "a gravel floor",
            "a weathered wooden shelf",
        ],
        &[
            "tomato plants",
            "hanging baskets of ferns",
            "seedling trays",
            "misted glass panes",
        ],
    ),
    entry(
        "a zen rock garden",
        &[
            "a bed of raked gravel",
            "a flat basalt stone",
            "a mossy stone base",
        ],
        &[
            "a small pine bonsai",
            "bamboo stalks",
            "a bamboo water spout",
            "koi pond ripples",
        ],
    ),
    entry(
        "a wooden backyard deck",
        &[
            "a weathered teak deck",
            "a wooden garden bench",
            "a stone planter ledge",
        ],
        &[
            "potted lavender",
            "festoon lights",
            "climbing jasmine",
            "a bowl of ripe cherries",
        ],
    ),
    // Office and stationery.
    entry(
        "a bright scandinavian home office",
        &["a white oak desk", "a cork desk pad", "a pale birch shelf"],
        &[
            "a small potted succulent",
            "a pinboard of swatches",
            "a linen cushion",
            "a sprig of dried eucalyptus",
        ],
    ),
    entry(
        "a vintage writer's study",
        &[
            "a worn leather desk blotter",
            "a dark mahogany desk",
            "an old oak writing table",
        ],
        &[
            "an antique globe",
            "a dried hydrangea head",
            "dried roses",
            "red wax seals",
        ],
    ),
    entry(
        "a modern corporate office",
        &[
            "a glass conference table",
            "a white laminate desk",
            "a walnut meeting table",
        ],
        &[
            "floor-to-ceiling windows",
            "a city skyline view",
            "a tall snake plant",
            "a glass of water",
        ],
    ),
    entry(
        "a creative design studio",
        &[
            "a large drafting table",
            "a paint-splattered workbench",
            "a white cutting mat",
        ],
        &[
            "color swatches",
            "pinned mood boards",
            "a jar of brushes",
            "paper offcuts",
        ],
    ),
    entry(
        "a sunny classroom",
        &[
            "a wooden school desk",
            "a chalkboard ledge",
            "a low book shelf",
        ],
        &[
            "a shiny red apple",
            "a world globe",
            "colorful paper chains",
            "a potted sunflower",
        ],
    ),
    // Books.
    entry(
        "a grand old library",
        &[
            "a polished mahogany reading table",
            "a worn oak reading desk",
            "a green baize table",
        ],
        &[
            "towering bookshelves",
            "a green banker's lamp",
            "an antique globe",
            "dust in sunbeams",
        ],
    ),
    entry(
        "a rainy day window nook",
        &[
            "a cushioned window seat",
            "a knitted blanket",
            "a wide wooden sill",
        ],
        &[
            "rain on the glass",
            "a steaming cup of tea",
            "a chunky wool throw",
            "a plate of biscuits",
        ],
    ),
    entry(
        "a charming secondhand bookshop",
        &[
            "a dusty oak counter",
            "a wooden book crate",
            "a worn leather armchair seat",
        ],
        &[
            "leaning piles of old books",
            "a sleepy cat",
            "a brass counter bell",
            "paper bookmarks",
        ],
    ),
    entry(
        "a literary cafe corner",
        &[
            "a small marble cafe table",
            "a dark wood bench",
            "a round bistro table",
        ],
        &[
            "a cappuccino with foam art",
            "a slice of cake",
            "a vase of tulips",
            "a plate of almond biscotti",
        ],
    ),
    entry(
        "a candlelit gothic library",
        &[
            "a carved oak desk",
            "a stone window ledge",
            "a worn velvet cushion",
        ],
        &[
            "melting candles",
            "a quill and inkwell",
            "a raven feather",
            "dried roses",
            "a brass candelabra",
        ],
    ),
    // Travel.
    entry(
        "a quiet airport lounge",
        &[
            "a polished terrazzo floor",
            "a leather lounge seat",
            "a sleek side table",
        ],
        &[
            "large windows onto runways",
            "a cup of espresso",
            "a potted palm",
            "a departures hall in soft focus",
        ],
    ),
    entry(
        "a tropical hotel terrace",
        &[
            "a teak sun deck",
            "a white rendered ledge",
            "a rattan side table",
        ],
        &[
            "palm fronds",
            "a hibiscus flower",
            "a fresh coconut drink",
            "an infinity pool view",
        ],
    ),
    entry(
        "a vintage train compartment",
        &[
            "a wooden fold-down table",
            "a tartan seat cushion",
            "a brass luggage rack",
        ],
        &[
            "passing countryside views",
            "a folded paper map",
            "a porcelain teacup",
            "velvet curtains",
        ],
    ),
    entry(
        "a european old town square",
        &[
            "a worn cobblestone street",
            "a stone fountain rim",
            "a wrought iron bistro table",
        ],
        &[
            "colorful old facades",
            "window flower boxes",
            "a few pigeons",
            "a church tower in the distance",
        ],
    ),
    entry(
        "a desert highway at dusk",
        &[
            "a sun-baked asphalt road",
            "a dusty roadside rock",
            "a weathered fence rail",
        ],
        &[
            "tall saguaro cacti",
            "distant mesas",
            "dry tumbleweeds",
            "a long empty road",
        ],
    ),
    entry(
        "a coastal cliff viewpoint",
        &[
            "a grassy cliff edge",
            "a weathered stone wall",
            "a wooden lookout bench",
        ],
        &[
            "sea views to the horizon",
            "pink thrift flowers",
            "soaring gulls",
            "a lighthouse in the distance",
        ],
    ),
    entry(
        "a bright hotel room",
        &[
            "a crisp white bed",
            "a light oak luggage bench",
            "a wooden writing desk",
        ],
        &[
            "a folded paper map",
            "a vase of tropical flowers",
            "sheer curtains",
            "a window with a city view",
        ],
    ),
    // Seasonal and festive: Christmas, spring, summer beach, autumn and more.
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
    // Neutral studio settings that suit any product.
    entry(
        "a studio with a pastel backdrop",
        &[
            "a pastel pink plinth",
            "a round cream pedestal",
            "a matte sage podium",
        ],
        &[
            "soft geometric shapes",
            "pastel spheres",
            "dried pampas grass",
            "curved shadows",
        ],
    ),
    entry(
        "a bright white photo studio",
        &[
            "a seamless white sweep",
            "a white acrylic block",
            "a glossy white plinth",
        ],
        &[
            "soft shadows",
            "a single green leaf",
            "white geometric blocks",
            "a sheer fabric drape",
        ],
    ),
    entry(
        "a dark moody studio",
        &[
            "a black slate slab",
            "a charcoal concrete plinth",
            "a dark oak block",
        ],
        &[
            "wisps of smoke",
            "dramatic shadows",
            "a dark silk drape",
            "dried flowers",
        ],
    ),
    entry(
        "a terracotta toned studio",
        &[
            "a terracotta clay plinth",
            "a sandstone block",
            "a rough plaster pedestal",
        ],
        &[
            "dried palm leaves",
            "arched shadows",
            "smooth sand ripples",
            "a vase of dried flowers",
        ],
    ),
    entry(
        "a sunlit studio with palm shadows",
        &[
            "a beige stone plinth",
            "a travertine block",
            "a linen-covered box",
        ],
        &[
            "palm leaf shadows",
            "dried grass stems",
            "a round mirror",
            "sand-colored spheres",
        ],
    ),
    entry(
        "a colorful pop art studio",
        &[
            "a bright yellow podium",
            "a glossy red cube",
            "a candy pink plinth",
        ],
        &[
            "floating balloons",
            "scattered confetti",
            "bold geometric shapes",
            "candy-colored spheres",
        ],
    ),
    entry(
        "a futuristic chrome studio",
        &[
            "a mirrored chrome plinth",
            "a brushed steel disc",
            "an iridescent acrylic block",
        ],
        &[
            "liquid metal droplets",
            "holographic reflections",
            "chrome spheres",
            "thin light rings",
        ],
    ),
    entry(
        "a studio with still water",
        &[
            "a stone block in water",
            "a wet black stone",
            "a floating white disc",
        ],
        &[
            "gentle ripples",
            "water droplets",
            "floating petals",
            "smooth pebbles",
        ],
    ),
    entry(
        "a studio draped in silk",
        &[
            "a satin-covered plinth",
            "a pearl white pedestal",
            "a rose gold disc",
        ],
        &[
            "flowing silk folds",
            "scattered petals",
            "glass spheres",
            "soft light ripples",
        ],
    ),
    entry(
        "a natural wood studio",
        &[
            "a raw oak block",
            "a live edge wood slab",
            "a birch plywood cube",
        ],
        &[
            "dried grasses",
            "a sprig of olive",
            "linen fabric folds",
            "wood shavings",
        ],
    ),
    entry(
        "a monochrome grey studio",
        &[
            "a grey concrete cube",
            "a matte grey cylinder",
            "a smooth stone slab",
        ],
        &[
            "stacked concrete blocks",
            "sharp diagonal shadows",
            "a single dried branch",
            "grey geometric shapes",
        ],
    ),
    entry(
        "a desert sand studio",
        &[
            "a smooth sand mound",
            "a sandstone plinth",
            "a rough limestone block",
        ],
        &[
            "wind-rippled sand",
            "dried desert grass",
            "a bleached branch",
            "scattered pebbles",
        ],
    ),
    entry(
        "a lush botanical studio",
        &[
            "a moss-covered plinth",
            "a green marble block",
            "a smooth stone pedestal",
        ],
        &[
            "tropical monstera leaves",
            "trailing ferns",
            "fresh orchids",
            "water droplets",
        ],
    ),
    entry(
        "a dreamy cloud studio",
        &[
            "a fluffy cloud pedestal",
            "a pale blue plinth",
            "a white round podium",
        ],
        &[
            "cotton clouds",
            "pastel spheres",
            "floating bubbles",
            "a soft rainbow",
        ],
    ),
];

/// The lighting phrases, shared by every setting.
pub const LIGHTS: &[&str] = &[
    "soft morning light",
    "warm golden hour light",
    "bright even studio light",
    "cool blue twilight",
    "dappled sunlight through leaves",
    "warm candlelight",
    "soft diffused window light",
    "bright midday sun",
    "gentle overcast light",
    "dramatic side lighting",
    "soft rim lighting",
    "warm sunset glow",
    "crisp winter daylight",
    "misty morning light",
    "warm lamplight",
    "soft pastel light",
    "moody low-key light",
    "glowing neon light",
    "twinkling fairy light glow",
    "cool moonlight",
    "bright airy daylight",
    "warm firelight",
    "hazy afternoon sun",
    "soft spotlight from above",
    "clean backlit glow",
];

/// The mood words, shared by every setting (the prompt adds "mood").
pub const MOODS: &[&str] = &[
    "fresh",
    "cosy",
    "luxurious",
    "playful",
    "calm",
    "adventurous",
    "festive",
    "elegant",
    "energetic",
    "natural",
    "romantic",
    "serene",
    "rustic",
    "modern",
    "vibrant",
    "dreamy",
    "nostalgic",
    "bold",
    "wholesome",
    "minimal",
    "warm",
    "sophisticated",
    "whimsical",
    "tranquil",
    "invigorating",
    "homely",
    "sporty",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Words that would make a prop an advertised product, a person or text.
    const FORBIDDEN_PROP_WORDS: &[&str] = &[
        "phone",
        "smartphone",
        "laptop",
        "headphones",
        "earbuds",
        "speaker",
        "camera",
        "backpack",
        "handbag",
        "bag",
        "shoes",
        "sneakers",
        "boots",
        "watch",
        "necklace",
        "ring",
        "shampoo",
        "lotion",
        "perfume",
        "teddy",
        "doll",
        "toy",
        "person",
        "people",
        "man",
        "woman",
        "child",
        "girl",
        "boy",
        "hand",
        "hands",
        "logo",
        "text",
        "sign",
        "label",
        "brand",
        "lettering",
        "bottle",
    ];

    fn words(phrase: &str) -> Vec<&str> {
        phrase.split_whitespace().collect()
    }

    /// Checks the shared phrase rules and the word-count range; returns the
    /// problem, if any.
    fn phrase_problem(phrase: &str, min_words: usize, max_words: usize) -> Option<String> {
        let allowed = |c: char| c.is_ascii_lowercase() || matches!(c, ' ' | '-' | '\'');
        if !phrase.chars().all(allowed) {
            return Some("only lower-case ASCII letters, spaces, hyphens, apostrophes".into());
        }
        if phrase.trim() != phrase || phrase.contains("  ") {
            return Some("stray spaces".into());
        }
        let ws = words(phrase);
        if ws.len() < min_words || ws.len() > max_words {
            return Some(format!("{} words, want {min_words}-{max_words}", ws.len()));
        }
        article_problem(&ws)
    }

    /// "a" before a consonant sound, "an" before a vowel sound (by spelling).
    fn article_problem(ws: &[&str]) -> Option<String> {
        for pair in ws.windows(2) {
            let consonant_sound = ["eu", "uni", "use", "one"];
            let vowel = pair[1].starts_with(['a', 'e', 'i', 'o', 'u'])
                && !consonant_sound.iter().any(|c| pair[1].starts_with(c));
            if (pair[0] == "a" && vowel) || (pair[0] == "an" && !vowel) {
                return Some(format!("wrong article in \"{} {}\"", pair[0], pair[1]));
            }
        }
        None
    }

    fn starts_with_article(phrase: &str) -> bool {
        matches!(words(phrase).first(), Some(&("a" | "an" | "the")))
    }

    fn assert_phrases(kind: &str, phrases: &[&str], min: usize, max: usize, article: bool) {
        for p in phrases {
            if let Some(problem) = phrase_problem(p, min, max) {
                panic!("{kind} \"{p}\": {problem}");
            }
            assert!(
                !article || starts_with_article(p),
                "{kind} \"{p}\" needs a/an/the"
            );
        }
    }

    fn assert_unique(kind: &str, phrases: impl IntoIterator<Item = &'static str>) {
        let mut seen = HashSet::new();
        for p in phrases {
            assert!(seen.insert(p), "duplicate {kind} \"{p}\"");
        }
    }

    fn longest(phrases: &'static [&'static str]) -> &'static str {
        phrases
            .iter()
            .copied()
            .max_by_key(|p| words(p).len())
            .unwrap_or_default()
    }

    #[test]
    fn counts_are_in_range() {
        assert!(SETTINGS.len() >= 110, "{} settings", SETTINGS.len());
        for e in SETTINGS {
            assert!(
                (3..=5).contains(&e.surfaces.len()),
                "surfaces of {}",
                e.setting
            );
            assert!((4..=6).contains(&e.props.len()), "props of {}", e.setting);
        }
        assert!((20..=30).contains(&LIGHTS.len()), "{} lights", LIGHTS.len());
        assert!((20..=30).contains(&MOODS.len()), "{} moods", MOODS.len());
    }

    #[test]
    fn settings_surfaces_and_props_follow_the_phrase_rules() {
        for e in SETTINGS {
            assert_phrases("setting", &[e.setting], 2, 6, true);
            assert_phrases("surface", e.surfaces, 2, 6, true);
            assert_phrases("prop", e.props, 2, 7, false);
        }
    }

    #[test]
    fn lights_and_moods_follow_the_phrase_rules() {
        assert_phrases("light", LIGHTS, 2, 5, false);
        assert_phrases("mood", MOODS, 1, 2, false);
        for m in MOODS {
            assert!(
                !m.ends_with("mood"),
                "mood \"{m}\" must not end in \"mood\""
            );
        }
    }

    #[test]
    fn no_duplicates() {
        assert_unique("setting", SETTINGS.iter().map(|e| e.setting));
        for e in SETTINGS {
            assert_unique("surface", e.surfaces.iter().copied());
            assert_unique("prop", e.props.iter().copied());
        }
        assert_unique("light", LIGHTS.iter().copied());
        assert_unique("mood", MOODS.iter().copied());
    }

    #[test]
    fn props_name_no_product_person_or_text() {
        for e in SETTINGS {
            for p in e.props {
                let bad = words(p)
                    .into_iter()
                    .find(|w| FORBIDDEN_PROP_WORDS.contains(w));
                assert!(bad.is_none(), "prop \"{p}\" of {} names {bad:?}", e.setting);
            }
        }
    }

    #[test]
    fn the_rule_checks_reject_bad_phrases() {
        assert!(phrase_problem("a sunlit, bright bathroom", 2, 6).is_some());
        assert!(phrase_problem("a Sunlit bathroom", 2, 6).is_some());
        assert!(phrase_problem("a old oak table", 2, 6).is_some());
        assert!(phrase_problem("an wooden bench", 2, 6).is_some());
        assert!(phrase_problem("bathroom", 2, 6).is_some());
        assert!(phrase_problem("an old oak table", 2, 6).is_none());
        assert!(phrase_problem("a european square", 2, 6).is_none());
        assert!(!starts_with_article("sunlit bathroom"));
    }

    #[test]
    fn every_assembled_prompt_stays_under_forty_words() {
        let (light, mood) = (longest(LIGHTS), longest(MOODS));
        for e in SETTINGS {
            let (surface, props) = (longest(e.surfaces), longest(e.props));
            let prompt = format!(
                "{surface} in {}, with {props}, {light}, {mood} mood",
                e.setting
            );
            let count = words(&prompt).len();
            assert!(count < 40, "{count} words: {prompt}");
        }
    }
}
