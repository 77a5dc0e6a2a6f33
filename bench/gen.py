#!/usr/bin/env python3
"""Synthetic data at scale for ladder's database benchmarks (deterministic).

    python3 bench/gen.py OUT_DIR ENTERPRISES CERTIFICATIONS

Writes OUT_DIR/enterprises.csv, facts.csv (years 2023-2025) and certifications.csv in the
formats `ladder import` takes. Not realistic company by company; realistic in shape.
"""
import csv, os, random, sys

ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
DISTRICTS = ["210102", "210103", "210104", "210105", "210106", "210111", "210112", "210113",
             "210114", "210115", "210123", "210124", "210181"]
CLUSTERS = ["robotics", "aviation", "machine_tools", "equipment", "auto", "food", "it",
            "biomed", "ic", "materials", "ai"]
TIERS = [("tech_sme", 1, 0.45), ("innovative_sme", 3, 0.2), ("srdi_sme", 3, 0.15),
         ("little_giant", 3, 0.05), ("smart_factory_basic", 3, 0.08),
         ("smart_factory_advanced", 3, 0.04), ("digital_transformation", 3, 0.02),
         ("industrial_design_center", 3, 0.01)]


def uscc(district, n):
    body = "91" + district + f"{n:09d}"
    s = sum(ALPHA.index(c) * w for c, w in zip(body, W))
    return body + ALPHA[(31 - s % 31) % 31]


def main():
    out, n_ent, n_cert = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(20251127)
    codes = []
    with open(f"{out}/enterprises.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["uscc", "name", "district_code", "cluster_code", "founded_on", "niche_entered_on"])
        for i in range(n_ent):
            d = DISTRICTS[i % len(DISTRICTS)]
            code = uscc(d, 100_000_000 + i)
            codes.append(code)
            y = rnd.randint(1995, 2020)
            w.writerow([code, f"沈阳合成企业{i:06d}有限公司", d, CLUSTERS[i % len(CLUSTERS)],
                        f"{y}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}", f"{y + 1}-01-01"])
    cols = ["operating_revenue", "main_business_revenue", "rd_expense", "cost_and_expense",
            "net_profit", "total_assets", "total_liabilities", "employees", "rd_staff", "st_staff",
            "equity_financing", "niche_years", "main_product_share", "domestic_rank", "ip_class1",
            "ip_class1_self", "ip_class2", "rd_institution_level", "digital_level", "quality_items",
            "dev_eval_score", "cmmm_level", "strategic_emerging", "six_base", "key_chain",
            "high_tech_enterprise", "above_designated_size", "abnormal_listed", "dishonest_listed",
            "major_incident"]
    with open(f"{out}/facts.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["uscc", "year"] + cols)
        for i, code in enumerate(codes):
            rev = rnd.uniform(300, 80000)
            emp = rnd.randint(10, 900)
            for year in (2023, 2024, 2025):
                rev *= rnd.uniform(0.9, 1.25)
                main = rev * rnd.uniform(0.5, 1.0)
                rd = rev * rnd.uniform(0.005, 0.09)
                assets = rev * rnd.uniform(0.8, 2.0)
                ip1 = rnd.randint(0, 8)
                w.writerow([code, year, f"{rev:.2f}", f"{main:.2f}", f"{rd:.2f}", f"{rev * 0.85:.2f}",
                            f"{rev * rnd.uniform(-0.05, 0.15):.2f}", f"{assets:.2f}",
                            f"{assets * rnd.uniform(0.2, 0.9):.2f}", emp, rnd.randint(0, emp // 3),
                            rnd.randint(0, emp // 2), "0", year - 2015 + (i % 7), f"{rnd.uniform(1, 30):.1f}",
                            rnd.choice(["", "", "2", "5", "12"]), ip1, rnd.randint(0, ip1), rnd.randint(0, 20),
                            rnd.randint(0, 4), rnd.randint(1, 4), rnd.randint(0, 4),
                            f"{rnd.uniform(30, 90):.1f}", rnd.randint(1, 5)]
                           + [rnd.choice(["true", "false"]) for _ in range(5)]
                           + ["false", "false", "false"])
    with open(f"{out}/certifications.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["uscc", "name", "district_code", "cluster", "tier", "number", "issued_on",
                    "valid_from", "valid_to", "batch"])
        held = set()
        unexpired = set()
        made = 0
        while made < n_cert:
            code = codes[rnd.randrange(len(codes))]
            r = rnd.random()
            acc = 0
            for tier, years, p in TIERS:
                acc += p
                if r <= acc:
                    break
            # Each enterprise and tier: a chain of consecutive, non-overlapping titles.
            start_year = rnd.randint(2016, 2025)
            key = (code, tier, start_year)
            if key in held:
                continue
            if start_year + years - 1 >= 2026:
                # At most one title still in force per enterprise and tier.
                if (code, tier) in unexpired:
                    continue
                unexpired.add((code, tier))
            held.add(key)
            y = start_year
            m = rnd.randint(1, 12)
            dd = rnd.randint(1, 28)
            valid_to = f"{y + years - 1}-12-31"
            w.writerow([code, "", "", "", tier, f"B-{tier[:3].upper()}-{made:07d}",
                        f"{y}-{m:02d}-{dd:02d}", f"{y}-01-01", valid_to, f"batch {y}"])
            made += 1


if __name__ == "__main__":
    main()
