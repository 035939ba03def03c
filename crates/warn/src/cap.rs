//! OASIS CAP 1.2 rendering of notices, with `info` blocks in English, Japanese and Korean.
//!
//! The `status` of a message is read from its world (`Actual` only for [`RealWorld`] notices,
//! `Exercise` for [`ExerciseWorld`] ones) — the type, not a field, decides. Exercise messages
//! also carry a `note` and say so at the start of every headline and description.
//! `references` lists every earlier message of the same launch event (`sender,identifier,sent`),
//! so a receiver can follow Alert → Update → Cancel. Areas are one `<area>` per region, with the
//! region's outline (at most 8 parts of at most 100 points each: the IPAWS practice; small
//! islands are left to the geocode) and its ISO 3166-2 `geocode`.
//!
//! [`RealWorld`]: tripoint_core::world::RealWorld
//! [`ExerciseWorld`]: tripoint_core::world::ExerciseWorld

use std::collections::HashMap;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use tripoint_core::world::{InWorld, World};
use tripoint_core::{Duration, Epoch, Mode, Nation};

use crate::config::{Authority, Lang};
use crate::engine::{
    group_outcomes, Certainty, GroupPlace, MsgType, Notice, NoticeKind, ObjectOutcome, Outcome,
    OutcomeGroup, MAX_LISTED_OBJECTS,
};
use crate::region::RegionSet;

/// The CAP 1.2 namespace.
pub const CAP_NS: &str = "urn:oasis:names:tc:emergency:cap:1.2";
/// The OASIS schema, for validation (`xmllint --schema`).
pub const CAP_XSD: &str = include_str!("../data/CAP-v1.2.xsd");

/// One rendered CAP message.
#[derive(Clone, Debug, PartialEq)]
pub struct CapMessage {
    pub identifier: String,
    pub sender: String,
    /// `sent`, as written.
    pub sent: String,
    pub status: &'static str,
    pub msg_type: MsgType,
    pub xml: String,
}

type Reference = (String, String, String);

/// Renders notices in order, remembering each event's chain for `references`.
pub struct CapWriter<'a> {
    pub regions: &'a RegionSet,
    pub authorities: &'a [Authority],
    /// Track time zero.
    pub epoch: Epoch,
    /// Per (authority, event): the earlier messages' `sender, identifier, sent`.
    chains: HashMap<(usize, u32), Vec<Reference>>,
}

/// `sent`-style time: `YYYY-MM-DDThh:mm:ss+hh:mm` in the given offset. CAP 1.2 §3.3.2 forbids
/// `Z` and writes UTC as `-00:00`.
pub fn cap_time(t: Epoch, offset_h: i32) -> String {
    let local = t + Duration::from_seconds(offset_h as f64 * 3600.0);
    let (y, mo, d, h, mi, s, _) = local.to_gregorian_utc();
    let sign = if offset_h <= 0 { '-' } else { '+' };
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{sign}{:02}:00",
        offset_h.abs()
    )
}

/// A position as people read it, with hemispheres: `35.1°N 139.2°E`, `北緯35.1度 東経139.2度`,
/// `북위 35.1도 동경 139.2도`.
pub fn format_lat_lon(lat_deg: f64, lon_deg: f64, lang: Lang) -> String {
    let (la, lo) = (lat_deg.abs(), lon_deg.abs());
    let (north, east) = (lat_deg >= 0.0, lon_deg >= 0.0);
    match lang {
        Lang::En => format!(
            "{la:.1}°{} {lo:.1}°{}",
            if north { "N" } else { "S" },
            if east { "E" } else { "W" }
        ),
        Lang::Ja => format!(
            "{}{la:.1}度 {}{lo:.1}度",
            if north { "北緯" } else { "南緯" },
            if east { "東経" } else { "西経" }
        ),
        Lang::Ko => format!(
            "{} {la:.1}도 {} {lo:.1}도",
            if north { "북위" } else { "남위" },
            if east { "동경" } else { "서경" }
        ),
    }
}

/// Local clock time `hh:mm` in the authority's zone.
fn clock(t: Epoch, offset_h: i32) -> String {
    let local = t + Duration::from_seconds(offset_h as f64 * 3600.0);
    let (_, _, _, h, mi, _, _) = local.to_gregorian_utc();
    format!("{h:02}:{mi:02}")
}

/// The authority's civil time zone (hours from UTC) and its label per language.
fn zone(n: Nation) -> (i32, &'static str) {
    match n.code() {
        "JPN" => (9, "JST"),
        "KOR" => (9, "KST"),
        "USA" => (10, "ChST"),
        _ => (0, "UTC"),
    }
}

fn msg_type_str(m: MsgType) -> &'static str {
    match m {
        MsgType::Alert => "Alert",
        MsgType::Update => "Update",
        MsgType::Cancel => "Cancel",
    }
}

fn certainty_str(c: Certainty) -> &'static str {
    match c {
        Certainty::Observed => "Observed",
        Certainty::Likely => "Likely",
        Certainty::Possible => "Possible",
        Certainty::Unlikely => "Unlikely",
        Certainty::Unknown => "Unknown",
    }
}

fn status_of(mode: Mode) -> &'static str {
    match mode {
        Mode::Real => "Actual",
        Mode::Exercise => "Exercise",
    }
}

type W = Writer<Vec<u8>>;

fn leaf(w: &mut W, name: &str, text: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    w.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}

fn open(w: &mut W, name: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))
}

fn close(w: &mut W, name: &str) -> std::io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn pair(w: &mut W, outer: &str, name: &str, value: &str) -> std::io::Result<()> {
    open(w, outer)?;
    leaf(w, "valueName", name)?;
    leaf(w, "value", value)?;
    close(w, outer)
}

impl<'a> CapWriter<'a> {
    pub fn new(regions: &'a RegionSet, authorities: &'a [Authority], epoch: Epoch) -> Self {
        CapWriter {
            regions,
            authorities,
            epoch,
            chains: HashMap::new(),
        }
    }

    fn name(&self, r: usize, lang: Lang) -> &str {
        let n = &self.regions.get(r).names;
        match lang {
            Lang::En => &n.en,
            Lang::Ja => &n.ja,
            Lang::Ko => &n.ko,
        }
    }

    fn names(&self, rs: &[usize], lang: Lang) -> String {
        let sep = match lang {
            Lang::En => ", ",
            Lang::Ja => "、",
            Lang::Ko => ", ",
        };
        rs.iter()
            .map(|&r| self.name(r, lang).to_owned())
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// Renders one notice of world `M`. The status comes from `M`.
    pub fn render<M: World>(&mut self, notice: &InWorld<M, Notice>) -> InWorld<M, CapMessage> {
        let msg = self.render_mode(notice.get(), M::MODE);
        notice.as_ref().map(|_| msg)
    }

    fn render_mode(&mut self, n: &Notice, mode: Mode) -> CapMessage {
        let a = &self.authorities[n.authority];
        let (offset, _) = zone(a.nation);
        let when = self.epoch + Duration::from_seconds(n.t_s);
        let sent = cap_time(when, 0);
        let stamp = cap_time(self.epoch, 0)
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(14)
            .collect::<String>();
        let identifier = format!(
            "tripoint-{}-{}-{}-e{}-{}",
            a.nation.code().to_ascii_lowercase(),
            if mode == Mode::Exercise {
                "exercise"
            } else {
                "actual"
            },
            stamp,
            n.event + 1,
            n.seq + 1
        );
        let status = status_of(mode);
        let chain = self.chains.entry((n.authority, n.event)).or_default();
        let references = chain
            .iter()
            .map(|(s, i, t)| format!("{s},{i},{t}"))
            .collect::<Vec<_>>()
            .join(" ");
        chain.push((a.sender.clone(), identifier.clone(), sent.clone()));
        let xml = self
            .xml(n, mode, &identifier, &sent, &references, when, offset)
            .unwrap_or_default();
        CapMessage {
            identifier,
            sender: self.authorities[n.authority].sender.clone(),
            sent,
            status,
            msg_type: n.msg_type,
            xml,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn xml(
        &self,
        n: &Notice,
        mode: Mode,
        identifier: &str,
        sent: &str,
        references: &str,
        when: Epoch,
        offset: i32,
    ) -> std::io::Result<String> {
        let a = &self.authorities[n.authority];
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut root = BytesStart::new("alert");
        root.push_attribute(("xmlns", CAP_NS));
        w.write_event(Event::Start(root))?;
        leaf(&mut w, "identifier", identifier)?;
        leaf(&mut w, "sender", &a.sender)?;
        leaf(&mut w, "sent", sent)?;
        leaf(&mut w, "status", status_of(mode))?;
        leaf(&mut w, "msgType", msg_type_str(n.msg_type))?;
        leaf(&mut w, "source", "tripoint")?;
        leaf(&mut w, "scope", "Public")?;
        if mode == Mode::Exercise {
            leaf(
                &mut w,
                "note",
                "EXERCISE EXERCISE EXERCISE - not a real alert / 訓練 / 훈련",
            )?;
        }
        if !references.is_empty() {
            leaf(&mut w, "references", references)?;
        }
        leaf(
            &mut w,
            "incidents",
            &format!("tripoint-event-{}", n.event + 1),
        )?;
        for &lang in &a.languages {
            self.info(&mut w, n, mode, lang, when, offset)?;
        }
        close(&mut w, "alert")?;
        Ok(String::from_utf8_lossy(&w.into_inner()).into_owned())
    }

    fn info(
        &self,
        w: &mut W,
        n: &Notice,
        mode: Mode,
        lang: Lang,
        when: Epoch,
        offset: i32,
    ) -> std::io::Result<()> {
        let a = &self.authorities[n.authority];
        let text = self.text(n, lang, offset);
        let drill = mode == Mode::Exercise;
        let (drill_head, drill_desc) = match lang {
            Lang::En => ("EXERCISE - ", "This is an exercise, not a real alert. "),
            Lang::Ja => ("【訓練】", "これは訓練です。実際の警報ではありません。"),
            Lang::Ko => ("[훈련] ", "이것은 훈련 상황이며 실제 경보가 아닙니다. "),
        };
        open(w, "info")?;
        leaf(w, "language", lang.tag())?;
        leaf(w, "category", "Safety")?;
        leaf(w, "event", text.event)?;
        leaf(
            w,
            "responseType",
            match n.kind {
                NoticeKind::TakeShelter => "Shelter",
                NoticeKind::LaunchDetected => "Monitor",
                NoticeKind::PassedOver => "Assess",
                NoticeKind::ShelterLifted | NoticeKind::Result => "AllClear",
            },
        )?;
        leaf(w, "urgency", "Immediate")?;
        leaf(w, "severity", "Extreme")?;
        leaf(w, "certainty", certainty_str(n.certainty))?;
        pair(w, "eventCode", "tripoint", n.kind.event_name())?;
        leaf(w, "effective", &cap_time(when, offset))?;
        leaf(w, "senderName", &a.name)?;
        let head = if drill {
            format!("{drill_head}{}", text.headline)
        } else {
            text.headline.clone()
        };
        leaf(w, "headline", &head)?;
        let desc = if drill {
            format!("{drill_desc}{}", text.description.trim_end())
        } else {
            text.description.trim_end().to_owned()
        };
        leaf(w, "description", &desc)?;
        leaf(w, "instruction", &text.instruction)?;
        if let Some(p) = n.probability {
            pair(w, "parameter", "probability", &format!("{p:.2}"))?;
        }
        pair(
            w,
            "parameter",
            "tracks",
            &n.track_ids
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        )?;
        // Areas: the regions the message is about, or the authority's whole scope.
        let mut area_regions: Vec<usize> = match n.kind {
            NoticeKind::TakeShelter => n.warned.clone(),
            NoticeKind::LaunchDetected => vec![],
            NoticeKind::Result => {
                let mut rs = n.regions.clone();
                rs.extend(
                    n.released
                        .iter()
                        .copied()
                        .filter(|r| !n.regions.contains(r)),
                );
                rs
            }
            _ => n.regions.clone(),
        };
        if n.kind == NoticeKind::TakeShelter {
            for r in &n.regions {
                if !area_regions.contains(r) {
                    area_regions.push(*r);
                }
            }
        }
        if area_regions.is_empty() {
            open(w, "area")?;
            leaf(w, "areaDesc", &scope_name(a.nation, lang))?;
            for &r in &a.regions {
                self.geocode(w, r)?;
            }
            close(w, "area")?;
        } else {
            for r in area_regions {
                open(w, "area")?;
                leaf(w, "areaDesc", self.name(r, lang))?;
                for poly in self.regions.get(r).cap_polygons(8, 100) {
                    let s = poly
                        .iter()
                        .map(|[lat, lon]| format!("{lat:.4},{lon:.4}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    leaf(w, "polygon", &s)?;
                }
                self.geocode(w, r)?;
                close(w, "area")?;
            }
        }
        close(w, "info")
    }

    fn geocode(&self, w: &mut W, r: usize) -> std::io::Result<()> {
        let id = &self.regions.get(r).id;
        let name = if id.is_iso() {
            "ISO3166-2"
        } else {
            "tripoint-area"
        };
        pair(w, "geocode", name, id.as_str())
    }

    fn text(&self, n: &Notice, lang: Lang, offset: i32) -> Text {
        let (_, tz) = zone(self.authorities[n.authority].nation);
        let at = |t_s: f64| {
            format!(
                "{} {tz}",
                clock(self.epoch + Duration::from_seconds(t_s), offset)
            )
        };
        let time = at(n.t_s);
        let names = self.names(&n.regions, lang);
        let pct = n
            .probability
            .map_or(String::new(), |p| format!("{:.0}", p * 100.0));
        match (&n.kind, lang) {
            (NoticeKind::LaunchDetected, Lang::En) => Text::new(
                "Missile launch",
                "Missile launch detected",
                format!("A missile launch was detected at about {time}. Further information will follow."),
                "Stay alert for further information. If a warning is issued for your area, take shelter in a sturdy building or underground.",
            ),
            (NoticeKind::LaunchDetected, Lang::Ja) => Text::new(
                "ミサイル発射",
                "ミサイル発射情報",
                format!("{time}頃、ミサイルの発射を探知しました。続報に注意してください。"),
                "続報に注意してください。お住まいの地域に避難の呼びかけがあった場合は、頑丈な建物や地下に避難してください。",
            ),
            (NoticeKind::LaunchDetected, Lang::Ko) => Text::new(
                "미사일 발사",
                "미사일 발사 정보",
                format!("{time}경 미사일 발사가 탐지되었습니다. 추가 정보에 유의하십시오."),
                "추가 정보에 유의하십시오. 거주 지역에 대피 경보가 발령되면 튼튼한 건물이나 지하로 대피하십시오.",
            ),
            (NoticeKind::TakeShelter, Lang::En) => Text::new(
                "Missile alert",
                "Missile alert: take shelter",
                format!("As of {time} a missile may pass over or fall in {names} (probability {pct} %). Take shelter now."),
                "Take shelter immediately in a sturdy building or underground. If there is no building nearby, take cover or lie flat on the ground and protect your head.",
            ),
            (NoticeKind::TakeShelter, Lang::Ja) => Text::new(
                "ミサイル警報",
                "ミサイル発射。ミサイル発射。避難してください",
                format!("{time}現在、ミサイルが{names}の上空を通過、または落下するおそれがあります（確率{pct}%）。直ちに避難してください。"),
                "直ちに頑丈な建物や地下に避難してください。近くに適当な建物がない場合は、物陰に身を隠すか地面に伏せて頭部を守ってください。",
            ),
            (NoticeKind::TakeShelter, Lang::Ko) => Text::new(
                "미사일 경보",
                "미사일 경보: 대피하십시오",
                format!("{time} 현재 미사일이 {names} 상공을 통과하거나 낙하할 가능성이 있습니다(확률 {pct}%). 즉시 대피하십시오."),
                "즉시 튼튼한 건물이나 지하로 대피하십시오. 근처에 건물이 없으면 엄폐물 뒤에 숨거나 땅에 엎드려 머리를 보호하십시오.",
            ),
            (NoticeKind::ShelterLifted, Lang::En) => Text::new(
                "Missile alert lifted",
                "Missile alert lifted",
                format!("As of {time} the missile is no longer expected to pass over or fall in {names}. The shelter warning for these areas is lifted."),
                "You may leave shelter in these areas. Stay alert for further information.",
            ),
            (NoticeKind::ShelterLifted, Lang::Ja) => Text::new(
                "ミサイル警報解除",
                "ミサイル情報（避難の呼びかけ解除）",
                format!("{time}現在、{names}へのミサイルの通過・落下のおそれはなくなりました。避難の呼びかけを解除します。"),
                "避難を終了して差し支えありません。続報に注意してください。",
            ),
            (NoticeKind::ShelterLifted, Lang::Ko) => Text::new(
                "미사일 경보 해제",
                "미사일 경보 해제",
                format!("{time} 현재 {names}에 미사일이 통과하거나 낙하할 가능성이 없어졌습니다. 대피 경보를 해제합니다."),
                "대피를 종료해도 됩니다. 추가 정보에 유의하십시오.",
            ),
            (NoticeKind::PassedOver, Lang::En) => Text::new(
                "Missile passed over",
                "Missile passed over",
                format!("A missile passed over {names} at about {time}."),
                "If you find a suspicious object, do not approach it; report it to the police or fire service immediately.",
            ),
            (NoticeKind::PassedOver, Lang::Ja) => Text::new(
                "ミサイル通過",
                "ミサイル通過",
                format!("{time}頃、ミサイルが{names}の上空を通過しました。"),
                "不審な物を発見した場合には、決して近寄らず、直ちに警察や消防などに連絡してください。",
            ),
            (NoticeKind::PassedOver, Lang::Ko) => Text::new(
                "미사일 통과",
                "미사일 통과",
                format!("{time}경 미사일이 {names} 상공을 통과했습니다."),
                "의심스러운 물체를 발견하면 절대 가까이 가지 말고 즉시 경찰이나 소방서에 신고하십시오.",
            ),
            (NoticeKind::Result, _) => {
                // A few objects one by one; a cloud of debris by place (`MAX_LISTED_OBJECTS`).
                let lines: Vec<String> = if n.outcomes.len() <= MAX_LISTED_OBJECTS {
                    n.outcomes
                        .iter()
                        .enumerate()
                        .map(|(i, o)| self.outcome_line(i + 1, o, lang, &at))
                        .collect()
                } else {
                    group_outcomes(&n.outcomes)
                        .iter()
                        .map(|g| self.group_line(g, lang, &at))
                        .collect()
                };
                let sep = if lang == Lang::En { " " } else { "" };
                let passed = if n.regions.is_empty() {
                    String::new()
                } else {
                    match lang {
                        Lang::En => format!("It passed over {names}. "),
                        Lang::Ja => format!("{names}の上空を通過しました。"),
                        Lang::Ko => format!("{names} 상공을 통과했습니다. "),
                    }
                };
                match lang {
                    Lang::En => Text::new(
                        "Missile information",
                        "Missile information: result",
                        format!("{passed}{}", lines.join(sep)),
                        "Shelter warnings for this launch have ended. If you find a suspicious object, do not approach it; report it to the police or fire service immediately.",
                    ),
                    Lang::Ja => Text::new(
                        "ミサイル情報",
                        "ミサイル情報（結果）",
                        format!("{passed}{}", lines.join(sep)),
                        "この発射に関する避難の呼びかけは終了しました。不審な物を発見した場合には、決して近寄らず、直ちに警察や消防などに連絡してください。",
                    ),
                    Lang::Ko => Text::new(
                        "미사일 정보",
                        "미사일 정보(결과)",
                        format!("{passed}{}", lines.join(sep)),
                        "이번 발사에 대한 대피 경보가 종료되었습니다. 의심스러운 물체를 발견하면 절대 가까이 가지 말고 즉시 경찰이나 소방서에 신고하십시오.",
                    ),
                }
            }
        }
    }

    /// One line for a group of objects that ended in the same place ([`group_outcomes`]).
    fn group_line(&self, g: &OutcomeGroup, lang: Lang, at: &dyn Fn(f64) -> String) -> String {
        // No counts: a group counts tracks, and one object can end several (a track broken
        // and taken up again); "objects" is what the data support.
        let one = g.count == 1;
        let objects = match lang {
            Lang::En if one => "An object",
            Lang::En => "Objects",
            Lang::Ja => "物体",
            // (With the subject particle.)
            Lang::Ko if one => "물체가",
            Lang::Ko => "물체들이",
        };
        let est = match lang {
            _ if g.predicted == 0 => "",
            Lang::En if g.predicted == g.count && one => " (estimated)",
            Lang::En if g.predicted == g.count => "; the positions are estimated",
            Lang::En => "; some positions are estimated",
            Lang::Ja if g.predicted == g.count => "（推定）",
            Lang::Ja => "（一部は推定）",
            Lang::Ko if g.predicted == g.count => "(추정)",
            Lang::Ko => "(일부는 추정)",
        };
        // Where: near one point, or across the box of the points (0.1° is the printed digit).
        let span = |sw: (f64, f64), ne: (f64, f64)| -> String {
            let (a, b) = (
                format_lat_lon(sw.0, sw.1, lang),
                format_lat_lon(ne.0, ne.1, lang),
            );
            match lang {
                _ if a == b => match lang {
                    Lang::En => format!("near {a}"),
                    Lang::Ja => format!("{a}付近"),
                    Lang::Ko => format!("{a} 부근"),
                },
                Lang::En => format!("between {a} and {b}"),
                Lang::Ja => format!("{a}から{b}にかけて"),
                Lang::Ko => format!("{a}에서 {b} 사이"),
            }
        };
        let place = match (g.south_west, g.north_east) {
            (Some(sw), Some(ne)) => span(sw, ne),
            _ => String::new(),
        };
        let (t0, t1) = (at(g.t_s.0), at(g.t_s.1));
        let they = if one { "it" } else { "they" };
        match (&g.place, lang) {
            (GroupPlace::InRegion(r), Lang::En) => {
                format!("{objects} fell in {}{est}.", self.name(*r, lang))
            }
            (GroupPlace::InRegion(r), Lang::Ja) => {
                format!("{objects}が{}に落下しました{est}。", self.name(*r, lang))
            }
            (GroupPlace::InRegion(r), Lang::Ko) => {
                format!("{objects} {}에 낙하했습니다{est}. ", self.name(*r, lang))
            }
            (GroupPlace::AtSea(areas), _) => {
                let areas = self.names(areas, lang);
                match lang {
                    Lang::En => format!(
                        "{objects} fell at sea {place}{}{est}.",
                        if areas.is_empty() { String::new() } else { format!(" ({areas})") },
                    ),
                    Lang::Ja => format!(
                        "{objects}が{place}の海上{}に落下しました{est}。",
                        if areas.is_empty() { String::new() } else { format!("（{areas}）") },
                    ),
                    Lang::Ko => format!(
                        "{objects} {place} 해상{}에 낙하했습니다{est}. ",
                        if areas.is_empty() { String::new() } else { format!("({areas})") },
                    ),
                }
            }
            (GroupPlace::Outside, Lang::En) => {
                format!("{objects} came down outside the alert regions {place}{est}.")
            }
            (GroupPlace::Outside, Lang::Ja) => {
                format!("{objects}が警報対象地域の外、{place}に落下しました{est}。")
            }
            (GroupPlace::Outside, Lang::Ko) => {
                format!("{objects} 경보 대상 지역 밖 {place}에 낙하했습니다{est}. ")
            }
            (GroupPlace::ReachedOrbit, Lang::En) if one => {
                format!("{objects} appears to have reached orbit.")
            }
            (GroupPlace::ReachedOrbit, Lang::En) => {
                format!("{objects} appear to have reached orbit.")
            }
            (GroupPlace::ReachedOrbit, Lang::Ja) => {
                format!("{objects}は地球周回軌道に到達したとみられます。")
            }
            (GroupPlace::ReachedOrbit, Lang::Ko) => {
                format!("{objects} 지구 궤도에 진입한 것으로 보입니다. ")
            }
            (GroupPlace::TrackLost, _) if t0 == t1 => match lang {
                Lang::En => format!(
                    "Tracking of {} ended at about {t0}; where {they} came down is not known.",
                    if one { "an object" } else { "some objects" }
                ),
                Lang::Ja => format!(
                    "{}物体の追尾は{t0}頃に途絶えました。落下地点は確認されていません。",
                    if one { "" } else { "一部の" }
                ),
                Lang::Ko => format!(
                    "{}물체의 추적이 {t0}경 중단되었습니다. 낙하 지점은 확인되지 않았습니다. ",
                    if one { "" } else { "일부 " }
                ),
            },
            (GroupPlace::TrackLost, Lang::En) => format!(
                "Tracking of {} ended between {t0} and {t1}; where {they} came down is not known.",
                if one { "an object" } else { "some objects" }
            ),
            (GroupPlace::TrackLost, Lang::Ja) => format!(
                "{}物体の追尾は{t0}から{t1}の間に途絶えました。落下地点は確認されていません。",
                if one { "" } else { "一部の" }
            ),
            (GroupPlace::TrackLost, Lang::Ko) => format!(
                "{}물체의 추적이 {t0}에서 {t1} 사이에 중단되었습니다. 낙하 지점은 확인되지 않았습니다. ",
                if one { "" } else { "일부 " }
            ),
        }
    }

    fn outcome_line(
        &self,
        i: usize,
        o: &ObjectOutcome,
        lang: Lang,
        at: &dyn Fn(f64) -> String,
    ) -> String {
        let est = |p: bool| match (p, lang) {
            (false, _) => "",
            (true, Lang::En) => " (estimated)",
            (true, Lang::Ja) => "（推定）",
            (true, Lang::Ko) => "(추정)",
        };
        let time = at(o.t_s);
        match (&o.outcome, lang) {
            (Outcome::FellInRegion { region, predicted, .. }, Lang::En) => format!(
                "Object {i} fell in {}{}.",
                self.name(*region, lang),
                est(*predicted)
            ),
            (Outcome::FellInRegion { region, predicted, .. }, Lang::Ja) => format!(
                "物体{i}は{}に落下しました{}。",
                self.name(*region, lang),
                est(*predicted)
            ),
            (Outcome::FellInRegion { region, predicted, .. }, Lang::Ko) => format!(
                "물체 {i}은(는) {}에 낙하했습니다{}. ",
                self.name(*region, lang),
                est(*predicted)
            ),
            (Outcome::FellAtSea { lat_deg, lon_deg, areas, predicted }, _) => {
                let areas = self.names(areas, lang);
                let at = format_lat_lon(*lat_deg, *lon_deg, lang);
                match lang {
                    Lang::En => format!(
                        "Object {i} fell at sea near {at}{}{}.",
                        if areas.is_empty() { String::new() } else { format!(" ({areas})") },
                        est(*predicted)
                    ),
                    Lang::Ja => format!(
                        "物体{i}は{at}付近の海上{}に落下しました{}。",
                        if areas.is_empty() { String::new() } else { format!("（{areas}）") },
                        est(*predicted)
                    ),
                    Lang::Ko => format!(
                        "물체 {i}은(는) {at} 부근 해상{}에 낙하했습니다{}. ",
                        if areas.is_empty() { String::new() } else { format!("({areas})") },
                        est(*predicted)
                    ),
                }
            }
            (Outcome::FellOutside { lat_deg, lon_deg, predicted }, _) => {
                let at = format_lat_lon(*lat_deg, *lon_deg, lang);
                match lang {
                    Lang::En => format!(
                        "Object {i} came down outside the alert regions near {at}{}.",
                        est(*predicted)
                    ),
                    Lang::Ja => format!(
                        "物体{i}は警報対象地域の外、{at}付近に落下しました{}。",
                        est(*predicted)
                    ),
                    Lang::Ko => format!(
                        "물체 {i}은(는) 경보 대상 지역 밖 {at} 부근에 낙하했습니다{}. ",
                        est(*predicted)
                    ),
                }
            }
            (Outcome::ReachedOrbit, Lang::En) => {
                format!("Object {i} appears to have reached orbit.")
            }
            (Outcome::ReachedOrbit, Lang::Ja) => {
                format!("物体{i}は地球周回軌道に到達したとみられます。")
            }
            (Outcome::ReachedOrbit, Lang::Ko) => {
                format!("물체 {i}은(는) 지구 궤도에 진입한 것으로 보입니다. ")
            }
            (Outcome::TrackLost { alt_km, .. }, lang) if !alt_km.is_finite() => match lang {
                Lang::En => format!(
                    "Tracking of object {i} ended at about {time}; where it came down is not known."
                ),
                Lang::Ja => format!(
                    "物体{i}の追尾は{time}頃に途絶えました。落下地点は確認されていません。"
                ),
                Lang::Ko => format!(
                    "물체 {i}의 추적이 {time}경 중단되었습니다. 낙하 지점은 확인되지 않았습니다. "
                ),
            },
            (Outcome::TrackLost { alt_km, .. }, Lang::En) => format!(
                "Tracking of object {i} ended at about {time} at {alt_km:.0} km altitude; where it came down is not known."
            ),
            (Outcome::TrackLost { alt_km, .. }, Lang::Ja) => format!(
                "物体{i}の追尾は{time}頃、高度{alt_km:.0}kmで途絶えました。落下地点は確認されていません。"
            ),
            (Outcome::TrackLost { alt_km, .. }, Lang::Ko) => format!(
                "물체 {i}의 추적이 {time}경 고도 {alt_km:.0}km에서 중단되었습니다. 낙하 지점은 확인되지 않았습니다. "
            ),
        }
    }
}

fn scope_name(n: Nation, lang: Lang) -> String {
    match (n.code(), lang) {
        ("JPN", Lang::En) => "Japan",
        ("JPN", Lang::Ja) => "日本全域",
        ("JPN", Lang::Ko) => "일본 전역",
        ("KOR", Lang::En) => "Republic of Korea",
        ("KOR", Lang::Ja) => "韓国全域",
        ("KOR", Lang::Ko) => "대한민국 전역",
        ("USA", Lang::En) => "Guam",
        ("USA", Lang::Ja) => "グアム",
        ("USA", Lang::Ko) => "괌",
        (other, _) => other,
    }
    .to_owned()
}

struct Text {
    event: &'static str,
    headline: String,
    description: String,
    instruction: String,
}

impl Text {
    fn new(event: &'static str, headline: &str, description: String, instruction: &str) -> Self {
        Text {
            event,
            headline: headline.to_owned(),
            description,
            instruction: instruction.to_owned(),
        }
    }
}
