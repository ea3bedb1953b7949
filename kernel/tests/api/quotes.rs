//! Quotes through the REST surface, on both backends: nightly rates with calendar overrides,
//! errors naming the field, and the bundled pricing plugins chained to the cent (and reloaded).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::fixtures::*;
use crate::helpers::{assert_problem, plugin, TestApp};

crate::on_both_backends!(
    a_quote_without_plugins_is_the_nightly_rates_with_calendar_overrides,
    quote_errors_are_problems_naming_the_field,
);

crate::on_both_backends_with_plugins!(
    seasonal_adjusts_weekend_and_season_nights_to_the_cent => seasonal_plugin,
    length_of_stay_discounts_weeks_and_months_to_the_cent => length_of_stay_plugin,
    the_cleaning_fee_is_charged_once_and_waived_for_long_stays => cleaning_fee_plugin,
    the_service_fee_is_a_share_of_everything_before_it_in_the_chain => service_fee_plugins,
    occupancy_taxes_apply_only_where_country_and_city_match => occupancy_tax_plugin,
    all_five_plugins_chain_to_the_total_computed_by_hand => all_five_plugins,
    a_reload_reorders_and_reconfigures_the_next_quote => cleaning_then_service_fee,
);

// ---------------------------------------------------------------------------------------------
// 6. Quotes, without and with the bundled pricing plugins
// ---------------------------------------------------------------------------------------------

async fn a_quote_without_plugins_is_the_nightly_rates_with_calendar_overrides(app: TestApp) {
    let owner = app.host().await;
    let created = owner
        .create_listing(json!({ "nightly_price_minor": 10_050 }))
        .await;
    let listing_id = id(&created);
    set_calendar(
        &app,
        &owner,
        &listing_id,
        json!([{ "from": "2031-04-02", "to": "2031-04-03", "price_minor": 17_525 }]),
    )
    .await;
    let q = quote(&app, &listing_id, "2031-04-01", "2031-04-04", 2, &[]).await;
    assert_eq!(
        lines(&q),
        nightly_lines("2031-04-01", &[10_050, 17_525, 10_050])
    );
    assert_eq!(total(&q), 37_625);
    assert_eq!(q["nights"], 3);
    assert_eq!(q["currency"], "EUR");
    // A logged-in guest gets the same price; guests default to 1.
    let guest = app.guest().await;
    let res = quote_raw(
        &app,
        Some(&guest.token),
        &listing_id,
        &[("check_in", "2031-04-01"), ("check_out", "2031-04-04")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.expect("json");
    assert_eq!(again["guests"], 1);
    assert_eq!(total(&again), 37_625);
    assert_ne!(again["quote_id"], q["quote_id"], "each quote is its own");
    // The owner sees a draft's quote; a USD listing is quoted in USD.
    let draft = owner
        .create_listing(
            json!({ "status": "draft", "currency": "usd", "nightly_price_minor": 9_999 }),
        )
        .await;
    let res = quote_raw(
        &app,
        Some(&owner.token),
        &id(&draft),
        &[("check_in", "2031-04-01"), ("check_out", "2031-04-02")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let own: Value = res.json().await.expect("json");
    assert_eq!(own["currency"], "USD");
    assert_eq!(total(&own), 9_999);
}

async fn quote_errors_are_problems_naming_the_field(app: TestApp) {
    let owner = app.host().await;
    let listing_id = id(&owner
        .create_listing(json!({ "max_guests": 3, "min_nights": 2, "max_nights": 10 }))
        .await);
    let cases: &[Case] = &[
        (
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-08")],
            &["check_out"],
        ),
        (
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-10")],
            &["check_out"],
        ),
        (&[], &["check_in", "check_out"]),
        (&[("check_in", "2031-04-10")], &["check_out"]),
        (&[("check_out", "2031-04-12")], &["check_in"]),
        (
            &[("check_in", "April 10"), ("check_out", "2031-04-12")],
            &["check_in"],
        ),
        (
            &[
                ("check_in", "2031-04-10"),
                ("check_out", "2031-04-12"),
                ("guests", "4"),
            ],
            &["guests"],
        ),
        (
            &[
                ("check_in", "2031-04-10"),
                ("check_out", "2031-04-12"),
                ("guests", "0"),
            ],
            &["guests"],
        ),
        (
            &[
                ("check_in", "2031-04-10"),
                ("check_out", "2031-04-12"),
                ("guests", "two"),
            ],
            &["guests"],
        ),
        (
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-11")],
            &["check_out"],
        ),
        (
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-21")],
            &["check_out"],
        ),
        (
            &[
                ("check_in", "2031-04-10"),
                ("check_out", "2031-04-11"),
                ("guests", "9"),
            ],
            &["guests", "check_out"],
        ),
    ];
    for (params, expected) in cases {
        assert_invalid(
            quote_raw(&app, None, &listing_id, params).await,
            expected,
            &format!("{params:?}"),
        )
        .await;
    }
    // At the limits it prices.
    quote(&app, &listing_id, "2031-04-10", "2031-04-12", 3, &[]).await;
    quote(&app, &listing_id, "2031-04-10", "2031-04-20", 1, &[]).await;

    // A blocked night: 409, naming the night.
    set_calendar(
        &app,
        &owner,
        &listing_id,
        json!([{ "from": "2031-04-11", "to": "2031-04-12", "blocked": true }]),
    )
    .await;
    let problem = assert_problem(
        quote_raw(
            &app,
            None,
            &listing_id,
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-13")],
        )
        .await,
        StatusCode::CONFLICT,
        "dates_unavailable",
    )
    .await;
    assert_eq!(fields(&problem), ["check_in"]);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("2031-04-11")),
        "{problem}"
    );
    // Leaving on the blocked day is fine.
    quote(&app, &listing_id, "2031-04-09", "2031-04-11", 1, &[]).await;

    // Someone else's draft does not exist.
    let draft = owner.create_listing(json!({ "status": "draft" })).await;
    let stranger = app.host().await;
    for token in [Some(stranger.token.as_str()), None] {
        assert_problem(
            quote_raw(
                &app,
                token,
                &id(&draft),
                &[("check_in", "2031-04-10"), ("check_out", "2031-04-12")],
            )
            .await,
            StatusCode::NOT_FOUND,
            "listing_not_found",
        )
        .await;
    }
    assert_problem(
        quote_raw(
            &app,
            None,
            "0190c000-0000-7000-8000-000000000001",
            &[("check_in", "2031-04-10"), ("check_out", "2031-04-12")],
        )
        .await,
        StatusCode::NOT_FOUND,
        "listing_not_found",
    )
    .await;
}

fn seasonal_plugin() -> String {
    plugin(
        "seasonal",
        "pricing",
        "hearth_plugin_pricing_seasonal",
        "order = 10",
        "weekend_adjust_bp = 2000\n\
         seasons = [{ name = \"Summer\", from = \"07-01\", to = \"08-31\", adjust_bp = 1500 }]",
    )
}

async fn seasonal_adjusts_weekend_and_season_nights_to_the_cent(app: TestApp) {
    let owner = app.host().await;
    let listing_id = id(&owner
        .create_listing(json!({ "nightly_price_minor": 10_003 }))
        .await);
    // Saturday 2031-06-28 costs 150.00 instead of 100.03.
    set_calendar(
        &app,
        &owner,
        &listing_id,
        json!([{ "from": "2031-06-28", "to": "2031-06-29", "price_minor": 15_000 }]),
    )
    .await;
    // Friday 06-27 to Wednesday 07-02: Friday and Saturday are weekend nights (+20% of their
    // own rate: 20.006 -> 20.01 and 30.00), Tuesday 07-01 is in summer (+15%: 15.0045 -> 15.00).
    let q = quote(
        &app,
        &listing_id,
        "2031-06-27",
        "2031-07-02",
        2,
        &["seasonal"],
    )
    .await;
    let mut expected = nightly_lines("2031-06-27", &[10_003, 15_000, 10_003, 10_003, 10_003]);
    expected.extend([
        line("weekend-adjustment", 2_001, Some("2031-06-27"), "seasonal"),
        line("weekend-adjustment", 3_000, Some("2031-06-28"), "seasonal"),
        line("seasonal-adjustment", 1_500, Some("2031-07-01"), "seasonal"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 61_513);
    let descriptions: Vec<&str> = q["line_items"]
        .as_array()
        .expect("items")
        .iter()
        .skip(5)
        .map(|i| i["description"].as_str().expect("description"))
        .collect();
    assert_eq!(
        descriptions,
        [
            "Weekend rate (2031-06-27)",
            "Weekend rate (2031-06-28)",
            "Summer (2031-07-01)"
        ]
    );
    // Friday 07-04 is both: each adjustment is of the nightly rate, they do not compound.
    let q = quote(
        &app,
        &listing_id,
        "2031-07-04",
        "2031-07-05",
        1,
        &["seasonal"],
    )
    .await;
    let mut expected = nightly_lines("2031-07-04", &[10_003]);
    expected.extend([
        line("weekend-adjustment", 2_001, Some("2031-07-04"), "seasonal"),
        line("seasonal-adjustment", 1_500, Some("2031-07-04"), "seasonal"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 13_504);
    // A weekday outside the season is not adjusted.
    let q = quote(
        &app,
        &listing_id,
        "2031-06-30",
        "2031-07-01",
        1,
        &["seasonal"],
    )
    .await;
    assert_eq!(lines(&q), nightly_lines("2031-06-30", &[10_003]));
}

fn length_of_stay_plugin() -> String {
    plugin(
        "length-of-stay",
        "pricing",
        "hearth_plugin_pricing_length_of_stay",
        "order = 10",
        "weekly_discount_bp = 1000\nmonthly_discount_bp = 2500",
    )
}

async fn length_of_stay_discounts_weeks_and_months_to_the_cent(app: TestApp) {
    let owner = app.host().await;
    let listing_id = id(&owner
        .create_listing(json!({ "nightly_price_minor": 10_007 }))
        .await);
    let source = &["length-of-stay"];

    // 6 nights: no discount.
    let q = quote(&app, &listing_id, "2031-03-03", "2031-03-09", 2, source).await;
    assert_eq!(lines(&q), nightly_lines("2031-03-03", &[10_007; 6]));
    assert_eq!(total(&q), 60_042);

    // 7 nights: 10% of 700.49 = 70.049 -> 70.05 off.
    let q = quote(&app, &listing_id, "2031-03-10", "2031-03-17", 2, source).await;
    let mut expected = nightly_lines("2031-03-10", &[10_007; 7]);
    expected.push(line("weekly-discount", -7_005, None, "length-of-stay"));
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 63_044);

    // 27 nights are still weekly: 10% of 2701.89 = 270.189 -> 270.19 off.
    let q = quote(&app, &listing_id, "2031-04-01", "2031-04-28", 2, source).await;
    let mut expected = nightly_lines("2031-04-01", &[10_007; 27]);
    expected.push(line("weekly-discount", -27_019, None, "length-of-stay"));
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 243_170);

    // 28 nights: the monthly discount replaces the weekly one: 25% of 2801.96 = 700.49 off.
    let q = quote(&app, &listing_id, "2031-05-01", "2031-05-29", 2, source).await;
    let mut expected = nightly_lines("2031-05-01", &[10_007; 28]);
    expected.push(line("monthly-discount", -70_049, None, "length-of-stay"));
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 210_147);
}

fn cleaning_fee_plugin() -> String {
    plugin(
        "cleaning",
        "pricing",
        "hearth_plugin_pricing_cleaning_fee",
        "order = 10",
        "amount_minor = 5000\nwaive_from_nights = 7",
    )
}

async fn the_cleaning_fee_is_charged_once_and_waived_for_long_stays(app: TestApp) {
    let owner = app.host().await;
    let listing_id = id(&owner.create_listing(json!({})).await);
    for (check_out, nights, fee) in [
        ("2031-03-04", 3, Some(5_000)),
        ("2031-03-07", 6, Some(5_000)),
        ("2031-03-08", 7, None),
    ] {
        let q = quote(&app, &listing_id, "2031-03-01", check_out, 2, &["cleaning"]).await;
        let mut expected = nightly_lines("2031-03-01", &vec![10_000; nights]);
        if let Some(fee) = fee {
            expected.push(line("cleaning-fee", fee, None, "cleaning"));
        }
        assert_eq!(lines(&q), expected, "{nights} nights");
        assert_eq!(
            total(&q),
            10_000 * i64::try_from(nights).expect("small") + fee.unwrap_or(0)
        );
    }
}

fn service_fee_plugins() -> String {
    // The same plugin twice: a booking fee before the cleaning fee, a service fee after it.
    plugin(
        "booking-fee",
        "pricing",
        "hearth_plugin_pricing_service_fee",
        "order = 5",
        "percent_bp = 1000\nlabel = \"Booking fee\"",
    ) + &plugin(
        "cleaning",
        "pricing",
        "hearth_plugin_pricing_cleaning_fee",
        "order = 10",
        "amount_minor = 5000",
    ) + &plugin(
        "service-fee",
        "pricing",
        "hearth_plugin_pricing_service_fee",
        "order = 20",
        "percent_bp = 1400",
    )
}

async fn the_service_fee_is_a_share_of_everything_before_it_in_the_chain(app: TestApp) {
    let owner = app.host().await;
    let listing_id = id(&owner
        .create_listing(json!({ "nightly_price_minor": 10_005 }))
        .await);
    let q = quote(
        &app,
        &listing_id,
        "2031-03-01",
        "2031-03-04",
        2,
        &["booking-fee", "cleaning", "service-fee"],
    )
    .await;
    // Nights: 3 x 100.05 = 300.15.
    // Booking fee (first): 10% of 300.15 = 30.015 -> 30.02.
    // Cleaning: 50.00.
    // Service fee (last): 14% of 300.15 + 30.02 + 50.00 = 380.17 -> 53.2238 -> 53.22.
    let mut expected = nightly_lines("2031-03-01", &[10_005; 3]);
    expected.extend([
        line("service-fee", 3_002, None, "booking-fee"),
        line("cleaning-fee", 5_000, None, "cleaning"),
        line("service-fee", 5_322, None, "service-fee"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 43_339);
    assert_eq!(q["line_items"][3]["description"], "Booking fee");
    assert_eq!(q["line_items"][5]["description"], "Service fee");
}

fn occupancy_tax_plugin() -> String {
    plugin(
        "occupancy-tax",
        "pricing",
        "hearth_plugin_pricing_occupancy_tax",
        "order = 10",
        "rules = [\n\
           { name = \"VAT\", country = \"FR\", kind = \"percent\", rate_bp = 1000 },\n\
           { name = \"Paris tourist tax\", country = \"fr\", city = \"PARIS\", kind = \"per_guest_per_night\", amount_minor = 260 },\n\
           { name = \"Lyon tax\", country = \"FR\", city = \"Lyon\", kind = \"percent\", rate_bp = 300 },\n\
           { name = \"Spanish tax\", country = \"ES\", kind = \"per_guest_per_night\", amount_minor = 100 },\n\
         ]",
    )
}

async fn occupancy_taxes_apply_only_where_country_and_city_match(app: TestApp) {
    let owner = app.host().await;
    let paris = id(&owner
        .create_listing(json!({ "nightly_price_minor": 10_003 }))
        .await);
    let lyon = id(&owner.create_listing(json!({ "city": "Lyon", "latitude": 45.764, "longitude": 4.8357, "nightly_price_minor": 10_003 }),
    )
    .await);
    let berlin = id(&owner
        .create_listing(
            json!({ "city": "Berlin", "country": "DE", "latitude": 52.52, "longitude": 13.405,
                "nightly_price_minor": 10_003 }),
        )
        .await);
    let source = &["occupancy-tax"];
    let nights = nightly_lines("2031-03-01", &[10_003; 3]);
    let tax = |amount| line("occupancy-tax", amount, None, "occupancy-tax");

    // Nights: 300.09. Paris: VAT 10% = 30.009 -> 30.01; 2.60 x 2 guests x 3 nights = 15.60.
    let q = quote(&app, &paris, "2031-03-01", "2031-03-04", 2, source).await;
    assert_eq!(
        lines(&q),
        [nights.clone(), vec![tax(3_001), tax(1_560)]].concat()
    );
    assert_eq!(total(&q), 34_570);
    let names: Vec<&str> = q["line_items"]
        .as_array()
        .expect("items")
        .iter()
        .skip(3)
        .map(|i| i["description"].as_str().expect("description"))
        .collect();
    assert_eq!(names, ["VAT", "Paris tourist tax"]);
    // Per guest: 3 guests pay 2.60 x 3 x 3 = 23.40.
    let q = quote(&app, &paris, "2031-03-01", "2031-03-04", 3, source).await;
    assert_eq!(
        lines(&q),
        [nights.clone(), vec![tax(3_001), tax(2_340)]].concat()
    );
    assert_eq!(total(&q), 35_350);
    // Lyon: VAT, and 3% of 300.09 = 9.0027 -> 9.00; no Paris tax.
    let q = quote(&app, &lyon, "2031-03-01", "2031-03-04", 2, source).await;
    assert_eq!(
        lines(&q),
        [nights.clone(), vec![tax(3_001), tax(900)]].concat()
    );
    assert_eq!(total(&q), 33_910);
    // Germany: no rule matches.
    let q = quote(&app, &berlin, "2031-03-01", "2031-03-04", 2, source).await;
    assert_eq!(lines(&q), nights);
    assert_eq!(total(&q), 30_009);
}

fn all_five_plugins() -> String {
    plugin(
        "seasonal",
        "pricing",
        "hearth_plugin_pricing_seasonal",
        "order = 10",
        "weekend_adjust_bp = 2000\n\
         seasons = [{ name = \"Summer\", from = \"07-06\", to = \"08-31\", adjust_bp = 1500 }]",
    ) + &plugin(
        "length-of-stay",
        "pricing",
        "hearth_plugin_pricing_length_of_stay",
        "order = 20",
        "weekly_discount_bp = 1000\nmonthly_discount_bp = 2500",
    ) + &plugin(
        "cleaning",
        "pricing",
        "hearth_plugin_pricing_cleaning_fee",
        "order = 30",
        "amount_minor = 6000\nwaive_from_nights = 28",
    ) + &plugin(
        "service-fee",
        "pricing",
        "hearth_plugin_pricing_service_fee",
        "order = 40",
        "percent_bp = 1400",
    ) + &plugin(
        "occupancy-tax",
        "pricing",
        "hearth_plugin_pricing_occupancy_tax",
        "order = 50",
        "rules = [\n\
           { name = \"VAT\", country = \"FR\", kind = \"percent\", rate_bp = 1000 },\n\
           { name = \"Paris tourist tax\", country = \"FR\", city = \"Paris\", kind = \"per_guest_per_night\", amount_minor = 260 },\n\
         ]",
    )
}

async fn all_five_plugins_chain_to_the_total_computed_by_hand(app: TestApp) {
    let owner = app.host().await;
    let listing_id = id(&owner
        .create_listing(json!({ "nightly_price_minor": 12_345 }))
        .await);
    set_calendar(
        &app,
        &owner,
        &listing_id,
        json!([{ "from": "2031-07-08", "to": "2031-07-09", "price_minor": 15_000 }]),
    )
    .await;
    let q = quote(
        &app,
        &listing_id,
        "2031-07-03",
        "2031-07-10",
        2,
        &[
            "seasonal",
            "length-of-stay",
            "cleaning",
            "service-fee",
            "occupancy-tax",
        ],
    )
    .await;
    // Seven nights, Thursday 07-03 to Wednesday 07-09, 2 guests, in Paris:
    //   nightly:   6 x 123.45 + 150.00 (the 07-08 override)                  =   890.70
    //   weekend:   Fri 07-04, Sat 07-05: 20% of 123.45 = 24.69, x 2           =    49.38
    //   summer:    from 07-06: 15% of 123.45 = 18.5175 -> 18.52 on 07-06, 07-07
    //              and 07-09; 15% of 150.00 = 22.50 on 07-08                  =    78.06
    //   weekly:    10% of 890.70 + 49.38 + 78.06 = 1018.14 -> 101.814         =  -101.81
    //   cleaning:                                                             =    60.00
    //   service:   14% of 1018.14 - 101.81 + 60.00 = 976.33 -> 136.6862       =   136.69
    //   VAT:       10% of 976.33 + 136.69 = 1113.02 -> 111.302                =   111.30
    //   Paris tax: 2.60 x 2 guests x 7 nights                                 =    36.40
    //   total:     1113.02 + 111.30 + 36.40                                   =  1260.72
    let mut expected = nightly_lines(
        "2031-07-03",
        &[12_345, 12_345, 12_345, 12_345, 12_345, 15_000, 12_345],
    );
    expected.extend([
        line("weekend-adjustment", 2_469, Some("2031-07-04"), "seasonal"),
        line("weekend-adjustment", 2_469, Some("2031-07-05"), "seasonal"),
        line("seasonal-adjustment", 1_852, Some("2031-07-06"), "seasonal"),
        line("seasonal-adjustment", 1_852, Some("2031-07-07"), "seasonal"),
        line("seasonal-adjustment", 2_250, Some("2031-07-08"), "seasonal"),
        line("seasonal-adjustment", 1_852, Some("2031-07-09"), "seasonal"),
        line("weekly-discount", -10_181, None, "length-of-stay"),
        line("cleaning-fee", 6_000, None, "cleaning"),
        line("service-fee", 13_669, None, "service-fee"),
        line("occupancy-tax", 11_130, None, "occupancy-tax"),
        line("occupancy-tax", 3_640, None, "occupancy-tax"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 126_072);
}

fn cleaning_then_service_fee() -> String {
    reload_config(10, 5_000, 20, 1_400)
}

fn reload_config(
    cleaning_order: i32,
    cleaning: i64,
    service_order: i32,
    percent_bp: i64,
) -> String {
    plugin(
        "cleaning",
        "pricing",
        "hearth_plugin_pricing_cleaning_fee",
        &format!("order = {cleaning_order}"),
        &format!("amount_minor = {cleaning}"),
    ) + &plugin(
        "service-fee",
        "pricing",
        "hearth_plugin_pricing_service_fee",
        &format!("order = {service_order}"),
        &format!("percent_bp = {percent_bp}"),
    )
}

async fn a_reload_reorders_and_reconfigures_the_next_quote(app: TestApp) {
    let owner = app.host().await;
    let admin = app.admin().await;
    let listing_id = id(&owner.create_listing(json!({})).await);
    let source = &["cleaning", "service-fee"];

    // Cleaning first: 14% of 300.00 + 50.00 = 49.00.
    let q = quote(&app, &listing_id, "2031-03-01", "2031-03-04", 2, source).await;
    let mut expected = nightly_lines("2031-03-01", &[10_000; 3]);
    expected.extend([
        line("cleaning-fee", 5_000, None, "cleaning"),
        line("service-fee", 4_900, None, "service-fee"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 39_900);

    // The service fee moves first and drops to 10%, the cleaning fee to 25.00.
    std::fs::write(
        app.stores.config_path(),
        app.stores.config_text(&reload_config(10, 2_500, 5, 1_000)),
    )
    .expect("rewrite the configuration");
    // Only an admin may reload.
    let guest = app.guest().await;
    let res = app
        .request(Method::POST, "/v1/admin/plugins/reload")
        .bearer_auth(&guest.token)
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let q = quote(&app, &listing_id, "2031-03-01", "2031-03-04", 2, source).await;
    assert_eq!(total(&q), 39_900, "nothing changes before the reload");

    let res = app
        .request(Method::POST, "/v1/admin/plugins/reload")
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    // 10% of 300.00 = 30.00, then 25.00 cleaning.
    let q = quote(&app, &listing_id, "2031-03-01", "2031-03-04", 2, source).await;
    let mut expected = nightly_lines("2031-03-01", &[10_000; 3]);
    expected.extend([
        line("service-fee", 3_000, None, "service-fee"),
        line("cleaning-fee", 2_500, None, "cleaning"),
    ]);
    assert_eq!(lines(&q), expected);
    assert_eq!(total(&q), 35_500);
}
