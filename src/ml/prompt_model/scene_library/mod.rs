//! A curated library of background phrases for constrained decoding of the
//! background suggestions.
//!
//! The prompt model (SmolLM2-135M) plans an ad background in five slots:
//! setting, surface, props, light and mood. Free text from so small a model
//! is often incoherent, so its decoding is constrained to the phrases listed
//! here. The model first picks a [`SettingEntry::setting`] among a shortlist
//! of the settings (grouped in [`AREAS`]) chosen by sentence-embedding
//! similarity to the product title and by the product
//! [`kinds`](SettingEntry::kinds) each place lists (see
//! [`scene_fit`](super::scene_fit)), then a surface and props from that
//! setting's own lists (so they belong together), then a light from
//! [`LIGHTS`] and a mood from [`MOODS`].
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

mod automotive;
mod books;
mod cues;
mod drinks;
mod electronics;
mod fashion;
mod food;
mod furniture;
mod garden;
mod home_kitchen;
mod office;
mod personal_care;
mod pets;
mod seasonal;
mod sports;
mod studio;
mod toys_baby;
mod travel;

pub use cues::{cue_props, Cue, CUES, MAX_CUE_PROPS};

/// One setting with the surfaces and props that belong in it and the
/// kinds of product it suits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingEntry {
    /// The place, reading naturally after "in" ("a sunlit bathroom").
    pub setting: &'static str,
    /// What the product stands or lies on in that place (3 to 5 phrases).
    pub surfaces: &'static [&'static str],
    /// Scene dressing around the product in that place (4 to 6 phrases).
    pub props: &'static [&'static str],
    /// The kinds of product an ad designer would really photograph in
    /// that place, named as a shopper would name them (short, lower-case,
    /// no brands, 6 to 15 of them): a vintage barbershop suits razors and
    /// beard care, not hair scrunchies. Empty for the neutral studios,
    /// which suit any product. Written from what each place is for (and,
    /// for the seasonal places, what is sold for that season), without
    /// looking at any evaluation title.
    pub kinds: &'static [&'static str],
    /// For a seasonal or festive place, the title words that name its
    /// occasion ("christmas", "xmas"); empty for a place of any time.
    pub occasions: &'static [&'static str],
}

/// A place of any time of year (see [`SettingEntry`]).
pub(crate) const fn entry(
    setting: &'static str,
    surfaces: &'static [&'static str],
    props: &'static [&'static str],
    kinds: &'static [&'static str],
) -> SettingEntry {
    SettingEntry {
        setting,
        surfaces,
        props,
        kinds,
        occasions: &[],
    }
}

/// A seasonal or festive place: `entry`, shortlisted only for a title
/// that names one of its `occasions` or whose product is one of its
/// kinds (see [`may_shortlist`](super::scene_fit::may_shortlist)).
pub(crate) const fn seasonal(
    occasions: &'static [&'static str],
    entry: SettingEntry,
) -> SettingEntry {
    SettingEntry { occasions, ..entry }
}

/// A group of settings for one product area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    /// A short name of the area ("personal care and beauty").
    pub name: &'static str,
    /// The product categories whose products this area's places suit;
    /// empty: every product.
    pub suits: &'static [&'static str],
    /// The settings of the area.
    pub settings: &'static [SettingEntry],
}

impl Area {
    /// Whether the area's places suit a product of `category`.
    pub fn suits(&self, category: &str) -> bool {
        self.suits.is_empty() || self.suits.contains(&category)
    }
}

/// Every setting of the library with its area, in [`AREAS`] order.
pub fn settings() -> impl Iterator<Item = (&'static Area, &'static SettingEntry)> {
    AREAS
        .iter()
        .flat_map(|area| area.settings.iter().map(move |entry| (area, entry)))
}

/// The settings by product area, each with the product categories
/// ([`CATEGORIES`](super::matching::CATEGORIES) names) it suits; an
/// empty `suits` list (the neutral studios) suits every product. The
/// mapping was written from what each area's places are for, not from
/// any evaluation title.
pub const AREAS: &[Area] = &[
    Area {
        name: "personal care and beauty",
        suits: &["personal care", "beauty"],
        settings: personal_care::PERSONAL_CARE,
    },
    Area {
        name: "food and cooking ingredients",
        suits: &["food", "drinks"],
        settings: food::FOOD,
    },
    Area {
        name: "drinks",
        suits: &["drinks", "food"],
        settings: drinks::DRINKS,
    },
    Area {
        name: "furniture",
        suits: &["furniture", "home & kitchen"],
        settings: furniture::FURNITURE,
    },
    Area {
        name: "home and kitchen",
        suits: &["home & kitchen", "furniture"],
        settings: home_kitchen::HOME_KITCHEN,
    },
    Area {
        name: "toys, kids and baby",
        suits: &["toys", "baby"],
        settings: toys_baby::TOYS_BABY,
    },
    Area {
        name: "fashion",
        suits: &["fashion", "jewelry"],
        settings: fashion::FASHION,
    },
    Area {
        name: "sports and outdoors",
        suits: &["sports & outdoors"],
        settings: sports::SPORTS,
    },
    Area {
        name: "electronics",
        suits: &["electronics"],
        settings: electronics::ELECTRONICS,
    },
    Area {
        name: "pets",
        suits: &["pet supplies"],
        settings: pets::PETS,
    },
    Area {
        name: "garden and tools",
        suits: &["garden"],
        settings: garden::GARDEN,
    },
    Area {
        name: "automotive",
        suits: &["automotive"],
        settings: automotive::AUTOMOTIVE,
    },
    Area {
        name: "office and stationery",
        suits: &["books & stationery", "electronics"],
        settings: office::OFFICE,
    },
    Area {
        name: "books",
        suits: &["books & stationery"],
        settings: books::BOOKS,
    },
    Area {
        name: "travel",
        suits: &["fashion", "sports & outdoors"],
        settings: travel::TRAVEL,
    },
    Area {
        name: "seasonal and festive",
        suits: &[
            "food",
            "drinks",
            "toys",
            "home & kitchen",
            "beauty",
            "jewelry",
            "fashion",
            "personal care",
        ],
        settings: seasonal::SEASONAL,
    },
    Area {
        name: "neutral studio",
        suits: &[],
        settings: studio::STUDIO,
    },
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
mod tests;
