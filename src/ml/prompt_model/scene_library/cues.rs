//! Cue props: scene dressing taken from what a title says the product is
//! made of, tastes or smells of ("Shea Butter & Almond Oil" puts a bowl of
//! shea butter and a scattering of almonds beside a hand cream), as ad
//! designers dress a set with a product's ingredients.
//!
//! A cue is a trigger word or word pair found in the title (whole words,
//! case-insensitive). A trigger followed by a colour or material word is a
//! colour or a material, not an ingredient ("Cherry Red", "Mint Green",
//! "Rose Gold", "Walnut Veneer") and is skipped; furniture gets no cues at
//! all (its "walnut" or "pine" is the wood it is made of).
//! The lexicon covers common ingredients, flavours, scents and natural
//! materials of marketplace products; it was written as a general list, not
//! from the evaluation titles.

/// One cue: the title words that trigger it and the props it adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cue {
    /// Lower-case words or word pairs, any of which triggers the cue.
    pub triggers: &'static [&'static str],
    /// The prop phrase the cue adds (same rules as the library's props).
    pub prop: &'static str,
}

const fn cue(triggers: &'static [&'static str], prop: &'static str) -> Cue {
    Cue { triggers, prop }
}

/// Words that, after a trigger, make it a colour or a material name
/// ("Cherry Red", "Walnut Veneer", "Rose Quartz", "Soy Wax"), not an
/// ingredient. ("Oatmeal" is not a trigger at all: on textiles it is a
/// colour.)
const NOT_INGREDIENT_AFTER: &[&str] = &[
    "red", "green", "gold", "pink", "yellow", "blue", "white", "black", "brown", "grey", "gray",
    "beige", "purple", "orange", "cream", "colour", "color", "coloured", "colored", "tone", "wood",
    "wooden", "veneer", "finish", "effect", "grain", "quartz", "wax", "candle", "candles",
];

/// The most cue props one title adds (the first found, in title order).
pub const MAX_CUE_PROPS: usize = 3;

/// The cue lexicon.
pub const CUES: &[Cue] = &[
    // Plants, herbs and botanicals.
    cue(&["aloe"], "fresh aloe vera leaves"),
    cue(&["cucumber"], "cool cucumber slices"),
    cue(&["lavender"], "sprigs of fresh lavender"),
    cue(&["eucalyptus"], "fresh eucalyptus branches"),
    cue(&["rosemary"], "sprigs of fresh rosemary"),
    cue(&["mint", "peppermint", "spearmint"], "fresh mint leaves"),
    cue(&["basil"], "fresh basil leaves"),
    cue(&["chamomile"], "dried chamomile flowers"),
    cue(&["jasmine"], "white jasmine blossoms"),
    cue(&["rose", "roses"], "fresh rose petals"),
    cue(&["hibiscus"], "dried hibiscus flowers"),
    cue(&["tea tree"], "tea tree leaves"),
    cue(&["bamboo"], "green bamboo stems"),
    cue(&["sage"], "a bundle of dried sage"),
    cue(&["thyme"], "sprigs of fresh thyme"),
    cue(&["wildflower", "wildflowers"], "a posy of wildflowers"),
    cue(&["sunflower"], "bright sunflower heads"),
    cue(&["cotton"], "soft cotton bolls"),
    cue(&["linen", "flax"], "dried flax stems"),
    cue(&["wool", "merino"], "a skein of natural wool yarn"),
    // Fruit.
    cue(&["lemon", "lemons"], "fresh lemon slices"),
    cue(&["lime", "limes"], "halved green limes"),
    cue(
        &["oranges", "citrus", "tangerine", "mandarin"],
        "fresh orange slices",
    ),
    cue(&["grapefruit"], "halved pink grapefruit"),
    cue(&["bergamot"], "halved bergamot oranges"),
    cue(&["strawberry", "strawberries"], "ripe strawberries"),
    cue(&["raspberry", "raspberries"], "fresh raspberries"),
    cue(&["blueberry", "blueberries"], "a scattering of blueberries"),
    cue(&["cherry", "cherries"], "a bowl of ripe cherries"),
    cue(&["apple", "apples"], "crisp green apples"),
    cue(&["peach", "peaches"], "ripe peaches"),
    cue(&["mango"], "sliced ripe mango"),
    cue(&["pineapple"], "a halved pineapple"),
    cue(&["banana"], "a bunch of ripe bananas"),
    cue(&["coconut"], "a halved coconut"),
    cue(&["avocado"], "a halved avocado"),
    cue(&["pomegranate"], "a split pomegranate"),
    cue(&["grape", "grapes"], "a bunch of grapes"),
    cue(&["watermelon"], "wedges of watermelon"),
    cue(&["olive", "olives"], "a sprig of olive leaves"),
    // Nuts, seeds, grains and pantry.
    cue(&["almond", "almonds"], "a scattering of whole almonds"),
    cue(&["shea"], "a small bowl of raw shea butter"),
    cue(&["argan"], "a handful of argan nuts"),
    cue(
        &["walnut", "walnuts"],
        "a handful of walnuts in their shells",
    ),
    cue(&["hazelnut", "hazelnuts"], "a scattering of hazelnuts"),
    cue(&["peanut", "peanuts"], "a pile of roasted peanuts"),
    cue(&["pistachio", "pistachios"], "a handful of pistachios"),
    cue(&["sesame"], "a scattering of sesame seeds"),
    cue(
        &["soy", "soybean", "soybeans", "soya"],
        "a bowl of dried soybeans",
    ),
    cue(&["oat", "oats", "porridge"], "a bowl of rolled oats"),
    cue(&["rice"], "a scattering of raw rice grains"),
    cue(&["wheat", "flour"], "golden wheat ears"),
    cue(&["quinoa", "chia"], "a scoop of seeds"),
    cue(&["honey", "honeycomb"], "a piece of golden honeycomb"),
    cue(&["cocoa", "cacao", "chocolate"], "scattered cocoa beans"),
    cue(&["vanilla"], "dried vanilla pods"),
    cue(&["cinnamon"], "a bundle of cinnamon sticks"),
    cue(&["ginger"], "fresh ginger root"),
    cue(&["turmeric"], "a small dish of turmeric powder"),
    cue(
        &["chili", "chilli", "chilies", "chillies"],
        "red chilli peppers",
    ),
    cue(&["garlic"], "whole garlic bulbs"),
    cue(
        &["pepper", "peppercorn", "peppercorns"],
        "a scattering of peppercorns",
    ),
    cue(&["salt"], "a bowl of flaky sea salt"),
    cue(&["caramel"], "a few soft caramel pieces"),
    cue(&["milk", "dairy"], "a small jug of milk"),
    cue(&["yogurt", "yoghurt"], "a small bowl of yogurt"),
    cue(&["cheese"], "a wedge of aged cheese"),
    // Drinks and their ingredients.
    cue(
        &["coffee", "espresso", "arabica", "robusta"],
        "roasted coffee beans",
    ),
    cue(&["matcha"], "a bamboo matcha whisk"),
    cue(
        &["green tea", "tea leaves", "oolong"],
        "loose green tea leaves",
    ),
    cue(&["malt", "barley"], "golden barley ears"),
    cue(&["oak cask", "cask", "barrel"], "an old oak barrel"),
    cue(&["hops", "ipa"], "fresh green hops"),
    cue(&["wine", "vineyard"], "a bunch of grapes on the vine"),
    cue(&["sparkling", "carbonated"], "rising fizz bubbles"),
    cue(&["ice", "iced"], "clear ice cubes"),
    // Woods, resins and minerals.
    cue(&["cedar", "cedarwood"], "a few cedar wood shavings"),
    cue(&["sandalwood"], "sandalwood chips"),
    cue(&["pine"], "fresh pine cones"),
    cue(&["charcoal"], "lumps of natural charcoal"),
    cue(&["clay"], "a small dish of natural clay"),
    cue(&["zinc", "mineral"], "smooth white mineral stones"),
    cue(&["seaweed", "kelp", "algae"], "fresh green seaweed"),
    cue(&["rattan", "wicker"], "a woven rattan basket"),
];

/// The title's lower-case words (ASCII letters only; other characters
/// separate words).
fn title_words(title: &str) -> Vec<String> {
    title
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Where `trigger` (one or two words) first occurs in `words` as an
/// ingredient (not followed by a colour word).
fn find(words: &[String], trigger: &str) -> Option<usize> {
    let parts: Vec<&str> = trigger.split(' ').collect();
    let n = parts.len();
    (0..words.len().saturating_sub(n - 1)).find(|&i| {
        let hit = parts.iter().zip(&words[i..i + n]).all(|(p, w)| p == w);
        let colour = words
            .get(i + n)
            .is_some_and(|next| NOT_INGREDIENT_AFTER.contains(&next.as_str()));
        hit && !colour
    })
}

/// The cue props of a title, in the order their triggers appear in it, at
/// most [`MAX_CUE_PROPS`], without repeats.
pub fn cue_props(title: &str) -> Vec<&'static str> {
    let words = title_words(title);
    let mut found: Vec<(usize, &'static str)> = CUES
        .iter()
        .filter_map(|c| {
            c.triggers
                .iter()
                .filter_map(|t| find(&words, t))
                .min()
                .map(|at| (at, c.prop))
        })
        .collect();
    found.sort_by_key(|&(at, _)| at);
    let mut props: Vec<&'static str> = Vec::new();
    for (_, prop) in found {
        if !props.contains(&prop) && props.len() < MAX_CUE_PROPS {
            props.push(prop);
        }
    }
    props
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingredients_in_the_title_become_props_in_title_order() {
        let props = cue_props("Rich Hand Cream Shea Butter & Almond Oil 75ml");
        assert_eq!(
            props,
            vec![
                "a small bowl of raw shea butter",
                "a scattering of whole almonds"
            ]
        );
    }

    #[test]
    fn colour_names_are_not_ingredients() {
        assert!(cue_props("Cast Iron Casserole Cherry Red 24cm").is_empty());
        assert!(cue_props("Instant Camera Mint Green").is_empty());
        assert!(cue_props("Hiking Backpack 40L Orange").is_empty());
        assert!(cue_props("Walnut Veneer Desk and Rose Quartz Roller").is_empty());
        assert_eq!(
            cue_props("Scented Soy Candle Lavender & Vanilla"),
            vec!["sprigs of fresh lavender", "dried vanilla pods"]
        );
        assert_eq!(
            cue_props("Linen Duvet Cover Natural Oatmeal"),
            vec!["dried flax stems"]
        );
        assert_eq!(cue_props("Dry Rose Wine 75cl")[0], "fresh rose petals");
    }

    #[test]
    fn word_pairs_and_whole_words_only() {
        assert_eq!(cue_props("Tea Tree Face Wash"), vec!["tea tree leaves"]);
        // "pineapple" is not "apple"; "Mints" is not "mint".
        assert_eq!(cue_props("Pineapple Juice"), vec!["a halved pineapple"]);
        assert!(cue_props("Breath Mints Tin").is_empty());
    }

    #[test]
    fn at_most_three_props_and_no_repeats() {
        let props = cue_props("Lemon Lime Orange Citrus Grapefruit Soda");
        assert_eq!(props.len(), MAX_CUE_PROPS);
        let mut unique = props.clone();
        unique.dedup();
        assert_eq!(unique, props);
    }

    #[test]
    fn cue_props_follow_the_library_phrase_rules() {
        for c in CUES {
            assert!(
                c.prop
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == ' ' || ch == '-'),
                "{}",
                c.prop
            );
            let n = c.prop.split(' ').count();
            assert!((2..=8).contains(&n), "{}", c.prop);
            assert!(!c.triggers.is_empty());
        }
    }
}
