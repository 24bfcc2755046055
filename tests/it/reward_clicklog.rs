//! Click-log parsing (every bad-row case), pairing and the by-product split.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use adstudio::ml::reward::clicklog::{
    parse_click_log, parse_csv, parse_jsonl, ClickLogError, ClickLogFormat, ClickRow, Field,
    RowProblem,
};
use adstudio::ml::reward::pairs::{make_pairs, PairingConfig, ProductSplit};

const CSV: &str = "\
creative_id,product_id,image_path,impressions,clicks
c1,p1,img/c1.png,2000,40
c2,p1,\"img/c2, copy.png\",3000,30
c3,p1,img/c3.png,100,200
c4,p2,img/c4.png,-5,1
c5,p2,img/c5.png,lots,1
c6,p2,img/c6.png,1000,1.5
c1,p2,img/c1b.png,5000,50
c7,p2,img/c7.png,0,0
c8,p2,,1500,10
c9,p2,img/c9.png,1500
c10,p2,\"img/c10.png,1500,10
c11,p3,img/c11.png,1500.0,15

c12,p3,img/c12.png, 2500 ,20
";

#[test]
fn csv_keeps_good_rows_and_reports_every_bad_row() {
    let log = parse_csv(CSV).unwrap();
    let ids: Vec<&str> = log.rows.iter().map(|r| r.creative_id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2", "c11", "c12"]);
    assert_eq!(log.lines, [2, 3, 13, 15]);
    assert_eq!(log.rows[1].image_path, Path::new("img/c2, copy.png"));
    assert_eq!(log.rows[2].impressions, 1500);
    assert_eq!(log.rows[3].impressions, 2500);
    assert!((log.rows[0].ctr() - 0.02).abs() < 1e-12);

    let problems: Vec<(usize, &RowProblem)> = log
        .rejections
        .iter()
        .map(|r| (r.line, &r.problem))
        .collect();
    assert_eq!(problems.len(), 9, "{:#?}", log.rejections);
    assert_eq!(
        problems[0],
        (
            4,
            &RowProblem::ClicksExceedImpressions {
                clicks: 200,
                impressions: 100
            }
        )
    );
    assert_eq!(
        problems[1],
        (
            5,
            &RowProblem::Negative {
                field: Field::Impressions,
                value: "-5".into()
            }
        )
    );
    assert_eq!(
        problems[2],
        (
            6,
            &RowProblem::NonNumeric {
                field: Field::Impressions,
                value: "lots".into()
            }
        )
    );
    assert_eq!(
        problems[3],
        (
            7,
            &RowProblem::NonNumeric {
                field: Field::Clicks,
                value: "1.5".into()
            }
        )
    );
    assert_eq!(
        problems[4],
        (
            8,
            &RowProblem::DuplicateId {
                id: "c1".into(),
                first_line: 2
            }
        )
    );
    assert_eq!(problems[5], (9, &RowProblem::ZeroImpressions));
    assert_eq!(
        problems[6],
        (10, &RowProblem::MissingField(Field::ImagePath))
    );
    assert!(matches!(problems[7], (11, RowProblem::Malformed(_))));
    assert!(matches!(problems[8], (12, RowProblem::Malformed(_))));
    // The report names the line and the id.
    assert_eq!(
        log.rejections[0].to_string(),
        "line 4 (c3): clicks (200) exceed impressions (100)"
    );
}

#[test]
fn csv_columns_in_any_order_with_alias_and_extras() {
    let text = "clicks,extra,IMAGE,impressions,product_id,creative_id\n7,x,a.png,700,p,c\n";
    let log = parse_csv(text).unwrap();
    assert_eq!(
        log.rows,
        vec![ClickRow {
            creative_id: "c".into(),
            product_id: "p".into(),
            image_path: "a.png".into(),
            impressions: 700,
            clicks: 7,
        }]
    );
    assert!(log.rejections.is_empty());
}

const JSONL: &str = r#"{"creative_id":"a","product_id":"p1","image_path":"a.png","impressions":2000,"clicks":20}
{"creative_id":"b","product_id":"p1","image":"b.png","impressions":"3000","clicks":45}
{"creative_id":"c","product_id":"p1","image_path":"c.png","impressions":10,"clicks":11}
{"creative_id":"d","product_id":"p1","image_path":"d.png","impressions":-3,"clicks":0}
{"creative_id":"e","product_id":"p1","image_path":"e.png","impressions":true,"clicks":0}
{"creative_id":"a","product_id":"p2","image_path":"a2.png","impressions":10,"clicks":1}
{"creative_id":"f","product_id":"p1","image_path":"f.png","clicks":1}
not json at all
[1, 2, 3]
{"creative_id":7,"product_id":"p2","image_path":"g.png","impressions":1e3,"clicks":0}
"#;

#[test]
fn jsonl_keeps_good_rows_and_reports_every_bad_row() {
    let log = parse_jsonl(JSONL).unwrap();
    let ids: Vec<&str> = log.rows.iter().map(|r| r.creative_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "7"]);
    assert_eq!(log.rows[1].impressions, 3000);
    assert_eq!(log.rows[2].impressions, 1000);
    let problems: Vec<(usize, &RowProblem)> = log
        .rejections
        .iter()
        .map(|r| (r.line, &r.problem))
        .collect();
    assert_eq!(problems.len(), 7, "{:#?}", log.rejections);
    assert!(matches!(
        problems[0],
        (3, RowProblem::ClicksExceedImpressions { .. })
    ));
    assert!(matches!(problems[1], (4, RowProblem::Negative { .. })));
    assert!(matches!(problems[2], (5, RowProblem::NonNumeric { .. })));
    assert!(matches!(problems[3], (6, RowProblem::DuplicateId { .. })));
    assert_eq!(
        problems[4],
        (7, &RowProblem::MissingField(Field::Impressions))
    );
    assert!(matches!(problems[5], (8, RowProblem::Malformed(_))));
    assert!(matches!(problems[6], (9, RowProblem::Malformed(_))));
}

#[test]
fn wrong_format_files_are_refused_whole() {
    assert!(matches!(
        parse_click_log(JSONL, ClickLogFormat::Csv),
        Err(ClickLogError::MissingColumns { .. })
    ));
    assert!(matches!(
        parse_click_log(CSV, ClickLogFormat::Jsonl),
        Err(ClickLogError::NotJsonl { .. })
    ));
    assert_eq!(parse_csv("\n  \n"), Err(ClickLogError::Empty));
    assert_eq!(parse_jsonl(""), Err(ClickLogError::Empty));
    assert_eq!(ClickLogFormat::sniff(JSONL), ClickLogFormat::Jsonl);
    assert_eq!(ClickLogFormat::sniff(CSV), ClickLogFormat::Csv);
    assert_eq!(
        ClickLogFormat::from_path(Path::new("x/log.NDJSON")),
        Some(ClickLogFormat::Jsonl)
    );
    assert_eq!(ClickLogFormat::from_path(Path::new("log.txt")), None);
}

#[test]
fn missing_images_are_rejected_in_line_order() {
    let mut log = parse_csv(CSV).unwrap();
    let before = log.rejections.len();
    log.reject_missing_images(|p| p != Path::new("img/c11.png"));
    assert_eq!(log.rows.len(), 3);
    assert_eq!(log.lines, [2, 3, 15]);
    assert_eq!(log.rejections.len(), before + 1);
    let r = log.rejections.iter().find(|r| r.line == 13).unwrap();
    assert_eq!(r.problem, RowProblem::MissingImage("img/c11.png".into()));
    assert!(log.rejections.windows(2).all(|w| w[0].line <= w[1].line));
}

fn row(id: &str, product: &str, impressions: u64, clicks: u64) -> ClickRow {
    ClickRow {
        creative_id: id.into(),
        product_id: product.into(),
        image_path: format!("{id}.png").into(),
        impressions,
        clicks,
    }
}

#[test]
fn pairs_need_same_product_and_enough_impressions() {
    let rows = vec![
        row("a", "p", 2000, 100), // 0.050
        row("b", "p", 2000, 110), // 0.055
        row("c", "p", 1000, 500), // exactly 1000: excluded (needs > 1000)
        row("d", "p", 4000, 200), // 0.050 ties with a
        row("e", "q", 5000, 300), // other product, alone
    ];
    let set = make_pairs(&rows, &PairingConfig::default()).unwrap();
    assert_eq!(set.rows_below_min_impressions, 1);
    assert_eq!(set.ties_skipped, 1);
    let got: Vec<(usize, usize)> = set.pairs.iter().map(|p| (p.better, p.worse)).collect();
    assert_eq!(got, [(1, 0), (1, 3)]);
    assert!((set.pairs[0].ctr_ratio - 1.1).abs() < 1e-9);

    // CAIG hard band keeps ratios in [1.05, 1.20] only.
    let rows = vec![
        row("a", "p", 10_000, 100), // 0.0100
        row("b", "p", 10_000, 104), // ratio 1.04 vs a
        row("c", "p", 10_000, 115), // 1.15 vs a
        row("d", "p", 10_000, 150), // 1.5 vs a
    ];
    let set = make_pairs(&rows, &PairingConfig::caig_hard()).unwrap();
    let got: Vec<(usize, usize)> = set.pairs.iter().map(|p| (p.better, p.worse)).collect();
    // b-c: 115/104 = 1.106; c-d: 150/115 = 1.304; b-d: 1.44.
    assert_eq!(got, [(2, 0), (2, 1)]);
    assert_eq!(set.outside_band, 4);
    let bad = PairingConfig {
        ctr_ratio_band: Some((1.2, 1.1)),
        ..PairingConfig::default()
    };
    assert!(make_pairs(&rows, &bad).is_err());
}

#[test]
fn split_is_by_product_never_by_pair() {
    let mut rows = Vec::new();
    for p in 0..20 {
        for c in 0..4 {
            rows.push(row(
                &format!("p{p}c{c}"),
                &format!("p{p}"),
                5000,
                50 + 10 * c,
            ));
        }
    }
    let set = make_pairs(&rows, &PairingConfig::default()).unwrap();
    assert_eq!(set.pairs.len(), 20 * 6);
    let split = ProductSplit::new(&rows, 0.25, 3).unwrap();
    assert_eq!(split.validation.len(), 5);
    assert_eq!(split.train.len(), 15);
    assert!(split.train.is_disjoint(&split.validation));
    let (train, val) = split.split_pairs(&rows, &set.pairs);
    assert_eq!(train.len() + val.len(), set.pairs.len());
    assert_eq!(val.len(), 5 * 6);
    for p in &val {
        assert!(split.validation.contains(&rows[p.better].product_id));
        assert!(split.validation.contains(&rows[p.worse].product_id));
    }
    for p in &train {
        assert!(split.train.contains(&rows[p.better].product_id));
        assert!(split.train.contains(&rows[p.worse].product_id));
    }
    // Deterministic per seed, different across seeds.
    assert_eq!(ProductSplit::new(&rows, 0.25, 3).unwrap(), split);
    assert_ne!(ProductSplit::new(&rows, 0.25, 4).unwrap(), split);
    assert!(ProductSplit::new(&rows, 1.5, 3).is_err());
}
