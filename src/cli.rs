//! The command line: serve, migrate, users, import, seed, evaluate, report, cultivation,
//! impact, audit.

use crate::config::Config;
use crate::domain::Role;
use crate::{Application, services};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "ladder",
    version,
    about = "Enterprise cultivation registry, grading engine, review workflow and quota rollup"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate, seed the reference data and rule sets, and serve HTTP (LADDER_BIND, default 127.0.0.1:8080).
    Serve,
    /// Run the database migrations and seed the reference data, then exit.
    Migrate,
    /// End the publicity periods that are over (issuing their certificates, each exactly once
    /// however many processes run this) and notice titles ending within 90 days, then exit.
    /// `ladder serve` does the same every LADDER_TICK_SECS (default 60).
    Tick,
    /// Manage user accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Import a CSV file: every bad row is reported with its line number; nothing is written unless the whole file is good.
    Import {
        /// What the file holds: enterprises, facts or certifications.
        kind: ImportKind,
        /// The CSV file (UTF-8, a header row; formats in fixtures/demo/README.md and the README).
        file: PathBuf,
    },
    /// Load data sets.
    Seed {
        /// The synthetic Shenyang demo data set (fixtures/demo): enterprises, facts 2022–2025 and users of every role.
        #[arg(long)]
        demo: bool,
    },
    /// Grade every enterprise for every tier in force, storing each result for reports.
    Evaluate {
        /// The programme year whose tiers in force are graded.
        #[arg(long)]
        year: i32,
        /// The assessment date (default: today in the current year, else 31 December of YEAR).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// `summary` (default) or `csv` (a sheet, to --output or standard output).
        #[arg(long, default_value = "summary")]
        format: EvalFormat,
        /// Where to write the csv sheet (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// The quota rollup for a year: a table in the terminal, or CSV / XLSX / JSON.
    Report {
        /// The quota year.
        #[arg(long)]
        year: i32,
        /// The report date (default: today within YEAR, else 31 December of YEAR).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// table (aligned for the terminal), csv, xlsx (needs --output) or json.
        #[arg(long, default_value = "table")]
        format: ReportFormat,
        /// Where to write csv/xlsx/json (default: standard output; xlsx needs a file).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// The cultivation pool (培育库): enterprises that do not hold TIER, nearest first.
    Cultivation {
        #[arg(long)]
        tier: String,
        /// The grading date (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        #[arg(long)]
        district: Option<String>,
        #[arg(long)]
        cluster: Option<String>,
        /// Only enterprises with at most this many failed criteria (0–20).
        #[arg(long)]
        max_failed: Option<i64>,
        /// table, csv, xlsx (needs --output) or json.
        #[arg(long, default_value = "table")]
        format: ReportFormat,
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// The impact of a rule-set document (a draft, say) against the rule set of its tier in force.
    Impact {
        /// The rule-set document (JSON, the format of fixtures/rulesets).
        #[arg(long)]
        ruleset: PathBuf,
        #[arg(long)]
        as_of: chrono::NaiveDate,
        /// table (totals and by district), csv (every changed enterprise) or json.
        #[arg(long, default_value = "table")]
        format: ReportFormat,
    },
    /// Benchmark: the rollup against the bare aggregate SQL, same database, same run.
    #[command(hide = true)]
    BenchRollup {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        as_of: chrono::NaiveDate,
        #[arg(long, default_value_t = 10)]
        iterations: usize,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user; the password is read from standard input.
    Create {
        /// The sign-in name (3–64 letters, digits, `.`, `_` or `-`; stored in lower case).
        #[arg(long)]
        username: String,
        /// One of enterprise, reviewer, official, admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// For enterprise accounts: the enterprise's credit code.
        #[arg(long)]
        enterprise_uscc: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List the accounts (id, username, role, enterprise, disabled), optionally of one role.
    List {
        /// Only accounts of this role: enterprise, reviewer, official or admin.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
    },
    /// Disable an account: its tokens stop working on the next request, in every process.
    Disable {
        /// The account's username.
        username: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The account's username.
        username: String,
    },
    /// Change an account's role (enterprise accounts keep their enterprise; see `PATCH /users/{id}`).
    Role {
        /// The account's username.
        username: String,
        /// The new role: reviewer, official or admin (an enterprise account needs an enterprise).
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Set a new password, read from standard input (its sessions end).
    ResetPassword {
        /// The account's username.
        username: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the keyed hash chain and name the first broken entry (exit status 1 when broken).
    Verify {
        /// A checkpoint printed earlier by `ladder audit head`: also fail when its signature
        /// does not hold, or the chain no longer reaches it (entries removed from the end).
        #[arg(long, value_name = "FILE")]
        head: Option<PathBuf>,
    },
    /// Print a signed checkpoint of the chain's head as JSON `{id, hash, at, signature}`
    /// (Ed25519; public key at GET /api/v1/audit/key). Keep it outside the database.
    Head,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Table,
    Csv,
    Xlsx,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EvalFormat {
    Summary,
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportKind {
    Enterprises,
    Facts,
    /// Existing titles: uscc,name,district_code,cluster,tier,number,issued_on,valid_from,valid_to,batch
    Certifications,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "one of enterprise, reviewer, official, admin".into())
}

pub fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ladder: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(&config.log_filter, config.log_json);
    match run(cli, config) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ladder: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, config: Config) -> anyhow::Result<ExitCode> {
    let state = Application::prepare(config)?;
    match cli.command {
        Command::Serve => {
            let rt = actix_web::rt::System::new();
            rt.block_on(crate::serve(state))?;
        }
        Command::Migrate => {
            println!("database migrated and seeded");
        }
        Command::Tick => {
            let mut conn = state.pool.get()?;
            let r = crate::services::publicity::tick(&mut conn)
                .map_err(|e| anyhow::anyhow!("tick: {e:?}"))?;
            println!(
                "{} certificates issued at the end of publicity, {} titles noticed as ending within 90 days",
                r.issued, r.expiring
            );
        }
        Command::Users {
            command:
                UsersCommand::Create {
                    username,
                    role,
                    enterprise_uscc,
                    password_stdin: _,
                },
        } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            let mut conn = state.pool.get()?;
            let enterprise_id = match enterprise_uscc {
                Some(u) => Some(
                    crate::models::enterprise::by_uscc(&mut conn, &u.to_ascii_uppercase())?
                        .ok_or_else(|| anyhow::anyhow!("no enterprise with credit code {u}"))?
                        .id,
                ),
                None => None,
            };
            let operator = services::policy::Caller::system("cli");
            let name = services::users::check_new_user(
                &mut conn,
                &operator,
                &username,
                &password,
                role,
                enterprise_id,
            )
            .map_err(|e| anyhow::anyhow!(describe(e)))?;
            let hash = crate::auth::password::hash_blocking(&password)?;
            let u = services::users::create_user(
                &mut conn,
                &operator,
                &name,
                &hash,
                role,
                enterprise_id,
            )
            .map_err(|e| anyhow::anyhow!(describe(e)))?;
            println!("created user {} (id {}, role {})", u.username, u.id, u.role);
        }
        Command::Users { command } => return users_command(&state, command),
        Command::Import { kind, file } => {
            let open = || {
                std::fs::File::open(&file)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))
            };
            // Checked as a stream first: a facts file is then imported as a stream too,
            // never held in memory whole.
            if let Some(line) = first_invalid_utf8_line(open()?)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?
            {
                eprintln!(
                    "{}: line {line}: not valid UTF-8 (save the file as UTF-8)",
                    file.display()
                );
                eprintln!("1 problem(s); nothing was written");
                return Ok(ExitCode::from(1));
            }
            let mut conn = state.pool.get()?;
            let result = match kind {
                ImportKind::Facts => services::import::facts_from_reader(
                    &mut conn,
                    "cli",
                    std::io::BufReader::with_capacity(1 << 16, open()?),
                    true,
                ),
                ImportKind::Enterprises | ImportKind::Certifications => {
                    let text = std::fs::read_to_string(&file)
                        .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
                    if matches!(kind, ImportKind::Enterprises) {
                        services::import::enterprises(&mut conn, "cli", &text, true)
                    } else {
                        services::import::parse_certifications_csv(&text).and_then(|items| {
                            services::import::certifications(
                                &mut conn,
                                &services::policy::Caller::system("cli"),
                                &items,
                                true,
                            )
                        })
                    }
                }
            };
            match result {
                Ok(n) => println!("imported {n} rows from {}", file.display()),
                Err(services::import::ImportError::Rows(errors)) => {
                    for e in &errors {
                        eprintln!(
                            "{}: line {}: {}: {}",
                            file.display(),
                            e.line,
                            e.field,
                            e.message
                        );
                    }
                    eprintln!("{} problem(s); nothing was written", errors.len());
                    return Ok(ExitCode::from(1));
                }
                Err(services::import::ImportError::Other(e)) => {
                    return Err(anyhow::anyhow!(describe(e)));
                }
            }
        }
        Command::Seed { demo } => {
            if !demo {
                println!(
                    "reference data and rule sets are seeded on every start; add --demo for the demo data set"
                );
                return Ok(ExitCode::SUCCESS);
            }
            let mut conn = state.pool.get()?;
            let summary =
                services::demo::seed(&mut conn).map_err(|e| anyhow::anyhow!(describe(e)))?;
            println!("{summary}");
        }
        Command::Evaluate {
            year,
            as_of,
            format,
            output,
        } => {
            let as_of = as_of.unwrap_or_else(|| crate::clock::default_as_of(year));
            let mut conn = state.pool.get()?;
            let mut file: Option<Box<dyn std::io::Write>> = match (format, output) {
                (EvalFormat::Csv, Some(p)) => Some(Box::new(std::io::BufWriter::new(
                    std::fs::File::create(&p)?,
                ))),
                (EvalFormat::Csv, None) => {
                    Some(Box::new(std::io::BufWriter::new(std::io::stdout())))
                }
                (EvalFormat::Summary, _) => None,
            };
            let progress = !matches!((format, &file), (EvalFormat::Csv, Some(_)))
                || std::io::IsTerminal::is_terminal(&std::io::stderr());
            let stats = services::batch::run(&mut conn, year, as_of, progress, file.as_deref_mut())
                .map_err(|e| anyhow::anyhow!(describe(e)))?;
            drop(file);
            eprintln!(
                "graded {} enterprises × {} tiers = {} evaluations in {:.2?} (read {:.2?}, grade {:.2?}, write {:.2?}); as of {as_of}",
                stats.enterprises,
                stats.tiers.len(),
                stats.evaluations,
                stats.total,
                stats.read,
                stats.grade,
                stats.write
            );
            let mut outcomes: Vec<_> = stats.outcomes.iter().collect();
            outcomes.sort();
            for (k, v) in outcomes {
                eprintln!("  {k}: {v}");
            }
        }
        Command::Report {
            year,
            as_of,
            format,
            output,
        } => {
            let as_of =
                crate::routes::quotas::default_as_of(year, as_of.map(|d| d.to_string()).as_deref())
                    .map_err(|e| anyhow::anyhow!(describe(e)))?;
            let mut conn = state.pool.get()?;
            let r = services::rollup::report(
                &mut conn,
                &services::policy::Caller::system("cli"),
                year,
                as_of,
            )
            .map_err(|e| anyhow::anyhow!(describe(e)))?;
            let bytes = match format {
                ReportFormat::Table => services::report_files::to_table(&r).into_bytes(),
                ReportFormat::Csv => services::report_files::to_csv(&r)?.into_bytes(),
                ReportFormat::Json => serde_json::to_vec_pretty(&r)?,
                ReportFormat::Xlsx => services::report_files::to_xlsx(&r)
                    .map_err(|e| anyhow::anyhow!("writing xlsx: {e}"))?,
            };
            match (output, format) {
                (Some(p), _) => {
                    std::fs::write(&p, bytes)?;
                    eprintln!("wrote {}", p.display());
                }
                (None, ReportFormat::Xlsx) => {
                    anyhow::bail!("--format xlsx needs --output FILE.xlsx")
                }
                (None, _) => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
            }
        }
        Command::Cultivation {
            tier,
            as_of,
            district,
            cluster,
            max_failed,
            format,
            output,
        } => {
            let mut conn = state.pool.get()?;
            let q = services::officials::PoolQuery {
                tier,
                as_of: as_of.unwrap_or_else(crate::clock::today),
                district,
                cluster,
                max_failed,
                page: None,
            };
            let caller = services::policy::Caller::system("cli");
            let r = services::officials::cultivation(&mut conn, &caller, &state.rules, &q)
                .map_err(|e| anyhow::anyhow!(describe(e)))?;
            let bytes = match format {
                ReportFormat::Table => {
                    let mut t = format!(
                        "{} on {}: {} enterprises (rule set v{})\n",
                        r.tier, r.as_of, r.total, r.ruleset.version
                    );
                    for (k, it) in r.items.iter().enumerate() {
                        let failed: Vec<&str> =
                            it.failed.iter().map(|f| f.criterion.as_str()).collect();
                        t.push_str(&format!(
                            "{:>6}  {:>8}  {:<12} {:<10} failed {:>2}  shortfall {:>7}  {}\n",
                            k + 1,
                            it.enterprise_id,
                            it.district,
                            it.outcome,
                            it.distance.failed,
                            it.distance.shortfall.to_string(),
                            failed.join(", ")
                        ));
                    }
                    t.into_bytes()
                }
                ReportFormat::Csv => services::officials::pool_csv(&r)?.into_bytes(),
                ReportFormat::Json => serde_json::to_vec_pretty(&r)?,
                ReportFormat::Xlsx => services::officials::pool_xlsx(&r)
                    .map_err(|e| anyhow::anyhow!("writing xlsx: {e}"))?,
            };
            match (output, format) {
                (Some(p), _) => {
                    std::fs::write(&p, bytes)?;
                    eprintln!("wrote {}", p.display());
                }
                (None, ReportFormat::Xlsx) => {
                    anyhow::bail!("--format xlsx needs --output FILE.xlsx")
                }
                (None, _) => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
            }
        }
        Command::Impact {
            ruleset,
            as_of,
            format,
        } => {
            let text = std::fs::read_to_string(&ruleset)
                .map_err(|e| anyhow::anyhow!("{}: {e}", ruleset.display()))?;
            let rs = services::rulesets::compile_text(&text)
                .map_err(|e| anyhow::anyhow!("{}: {}", ruleset.display(), describe(e)))?;
            let mut conn = state.pool.get()?;
            let row = services::evaluations::in_force(&mut conn, rs.tier(), as_of)
                .map_err(|e| anyhow::anyhow!(describe(e)))?;
            let old = state
                .rules
                .get(&row)
                .map_err(|e| anyhow::anyhow!(describe(e)))?;
            let all = matches!(format, ReportFormat::Csv);
            let r = services::officials::impact_of(
                &mut conn,
                (None, &rs),
                (Some(&row), &old),
                as_of,
                all,
            )
            .map_err(|e| anyhow::anyhow!(describe(e)))?;
            match format {
                ReportFormat::Csv => print!("{}", services::officials::impact_csv(&r)?),
                ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&r)?),
                ReportFormat::Table | ReportFormat::Xlsx => {
                    println!(
                        "{} v{} against v{} (id {}) on {as_of}: {} enterprises, gained {}, lost {}, unchanged {}",
                        rs.tier(),
                        rs.version(),
                        row.version,
                        row.id,
                        r.total,
                        r.gained,
                        r.lost,
                        r.unchanged
                    );
                    for d in r.by_district.iter().filter(|d| d.gained + d.lost > 0) {
                        println!("  {} {:<8} +{} -{}", d.code, d.name, d.gained, d.lost);
                    }
                }
            }
        }
        Command::BenchRollup {
            year,
            as_of,
            iterations,
        } => {
            let mut conn = state.pool.get()?;
            let (report, bare) = services::rollup::bench(&mut conn, year, as_of, iterations)
                .map_err(|e| anyhow::anyhow!(describe(e)))?;
            println!(
                "rollup median {:.1} ms, bare aggregate median {:.1} ms, ratio {:.2} ({iterations} iterations, year {year}, as of {as_of})",
                report * 1e3,
                bare * 1e3,
                report / bare
            );
        }
        Command::Audit { command } => {
            let mut conn = state.pool.get()?;
            match command {
                AuditCommand::Verify { head } => {
                    let checkpoint: Option<services::audit::Checkpoint> = match &head {
                        Some(p) => {
                            let text = std::fs::read_to_string(p)
                                .map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))?;
                            Some(serde_json::from_str(&text).map_err(|e| {
                                anyhow::anyhow!("{}: not a checkpoint: {e}", p.display())
                            })?)
                        }
                        None => None,
                    };
                    let started = std::time::Instant::now();
                    let v = services::audit::verify_against(&mut conn, checkpoint.as_ref())?;
                    let ms = started.elapsed().as_millis();
                    if v.ok {
                        println!(
                            "audit chain ok: {} entries ({} legacy), head {}{} ({ms} ms)",
                            v.entries,
                            v.legacy_entries,
                            v.head,
                            if checkpoint.is_some() {
                                ", reaches the checkpoint"
                            } else {
                                ""
                            }
                        );
                    } else {
                        println!(
                            "audit chain BROKEN at entry {}: {} (last good head {})",
                            v.first_broken_id.unwrap_or_default(),
                            v.reason.unwrap_or_default(),
                            v.head
                        );
                        return Ok(ExitCode::from(1));
                    }
                }
                AuditCommand::Head => match services::audit::checkpoint(&mut conn)? {
                    Some(cp) => println!("{}", serde_json::to_string(&cp)?),
                    None => anyhow::bail!("the audit trail is empty: nothing to sign yet"),
                },
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `ladder users list|disable|enable|role|reset-password`: the same service calls (and checks,
/// and audit entries) as `GET/PATCH /users`, as the system operator.
fn users_command(state: &Application, command: UsersCommand) -> anyhow::Result<ExitCode> {
    let operator = services::policy::Caller::system("cli");
    let mut conn = state.pool.get()?;
    let err = |e| anyhow::anyhow!(describe(e));
    let find = |conn: &mut crate::db::DbConnection, username: &str| {
        let name = services::auth::normalize_username(username);
        services::auth::user_by_name(conn, &name)
            .map_err(err)?
            .ok_or_else(|| anyhow::anyhow!("no account named {username}"))
    };
    match command {
        UsersCommand::Create { .. } => anyhow::bail!("users create is handled by run()"),
        UsersCommand::List { role } => {
            let mut after = 0;
            println!(
                "{:>6}  {:<24} {:<10} {:>10}  disabled",
                "id", "username", "role", "enterprise"
            );
            loop {
                let page = services::users::list_users(&mut conn, &operator, after, 500, role)
                    .map_err(err)?;
                for u in &page {
                    println!(
                        "{:>6}  {:<24} {:<10} {:>10}  {}",
                        u.id,
                        u.username,
                        u.role,
                        u.enterprise_id
                            .map_or_else(|| "-".to_string(), |e| e.to_string()),
                        if u.disabled { "yes" } else { "no" }
                    );
                }
                match page.last() {
                    Some(last) if page.len() == 500 => after = last.id,
                    _ => break,
                }
            }
        }
        UsersCommand::Disable { username } => {
            let u = find(&mut conn, &username)?;
            services::users::update_user(&mut conn, &operator, u.id, None, Some(true), None, None)
                .map_err(err)?;
            println!("disabled {} (id {})", u.username, u.id);
        }
        UsersCommand::Enable { username } => {
            let u = find(&mut conn, &username)?;
            services::users::update_user(&mut conn, &operator, u.id, None, Some(false), None, None)
                .map_err(err)?;
            println!("enabled {} (id {})", u.username, u.id);
        }
        UsersCommand::Role { username, role } => {
            let u = find(&mut conn, &username)?;
            let u = services::users::update_user(
                &mut conn,
                &operator,
                u.id,
                Some(role),
                None,
                None,
                None,
            )
            .map_err(err)?;
            println!("{} (id {}) is now {}", u.username, u.id, u.role);
        }
        UsersCommand::ResetPassword { username, .. } => {
            let u = find(&mut conn, &username)?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            services::users::check_user_update(&operator, Some(&password)).map_err(err)?;
            let hash = crate::auth::password::hash_blocking(&password)?;
            services::users::update_user(&mut conn, &operator, u.id, None, None, Some(hash), None)
                .map_err(err)?;
            println!("new password set for {} (id {})", u.username, u.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A service error as one line for the terminal.
pub fn describe(e: crate::error::AppError) -> String {
    match e {
        crate::error::AppError::Validation(errors) => errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        crate::error::AppError::Internal(e) => format!("{e:#}"),
        other => other.problem().detail,
    }
}

/// The 1-based line of the first byte that is not UTF-8, reading the file in blocks.
fn first_invalid_utf8_line(mut file: impl std::io::Read) -> std::io::Result<Option<usize>> {
    let mut buf = vec![0u8; 1 << 16];
    // Bytes of a character cut by the block boundary, carried to the next block.
    let mut carry = 0;
    let mut line = 1;
    loop {
        let n = file.read(&mut buf[carry..])?;
        let end = carry + n;
        match std::str::from_utf8(&buf[..end]) {
            Ok(_) => {
                line += buf[..end].iter().filter(|b| **b == b'\n').count();
                carry = 0;
            }
            Err(e) => {
                let valid = e.valid_up_to();
                line += buf[..valid].iter().filter(|b| **b == b'\n').count();
                // An incomplete character at the end of a block is completed by the next
                // read; at the end of the file, or anywhere else, it is an error.
                if e.error_len().is_some() || n == 0 {
                    return Ok(Some(line));
                }
                buf.copy_within(valid..end, 0);
                carry = end - valid;
                continue;
            }
        }
        if n == 0 {
            return Ok(None);
        }
    }
}
