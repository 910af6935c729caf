use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use edfi_sandbox::generate::{generate, GenerateOptions};
use edfi_sandbox::profiles::Profile;
use edfi_sandbox::seed;
use edfi_sandbox::server::{serve, Client, Documents, Sandbox, ServeConfig};
use edfi_sandbox::store::ErrorStyle;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// A local Ed-Fi ODS/API look-alike for tests, demos and dry runs.
#[derive(Parser)]
#[command(name = "edfi-sandbox", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve an Ed-Fi API from OpenAPI documents; prints its base URL as the first line.
    Serve(Box<ServeArgs>),
    /// Write a coherent generated school system as {endpoint}.jsonl files (Ed-Fi DS 5.x).
    Generate {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        students: usize,
        #[arg(long, default_value_t = 1)]
        rng_seed: u64,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The resources OpenAPI document (Swagger 2.0 or OpenAPI 3).
    #[arg(long)]
    resources_openapi: PathBuf,
    /// The descriptors OpenAPI document.
    #[arg(long)]
    descriptors_openapi: PathBuf,
    /// The dependencies document served at /metadata/data/v3/dependencies.
    #[arg(long)]
    dependencies: PathBuf,
    /// Directories of {endpoint}.jsonl files loaded at start (repeatable).
    #[arg(long)]
    seed_dir: Vec<PathBuf>,
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// 0 picks a free port.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Accepted client credentials ID:SECRET[,tenant=T][,profile=P]... (repeatable; the secret
    /// ends at the first comma; tenant=T: its tokens work in that tenant only; profile=P,
    /// repeatable: the client is assigned the --profile P, as in the ODS/API's admin database);
    /// default testkey:testsecret.
    #[arg(long)]
    client: Vec<String>,
    /// An ODS/API profile (repeatable): the <Profile name="NAME"> of the profile definition XML
    /// FILE (a <Profiles> document or one <Profile>). Requests may then use its media types
    /// application/vnd.ed-fi.{resource}.{profile}.readable+json (Accept) and ...writable+json
    /// (Content-Type); clients assigned to it must.
    #[arg(long, value_name = "NAME:FILE")]
    profile: Vec<String>,
    /// Multi-tenancy (ODS/API 7.x): every route under /{tenant}, one database per tenant;
    /// discovery at / shows {tenantIdentifier}.
    #[arg(long, value_delimiter = ',')]
    tenants: Vec<String>,
    /// Context-based routing (ODS/API 7.x year-specific instances): every route under
    /// /{context} (after the tenant), one database per context; discovery at the root shows
    /// {schoolYearFromRoute}.
    #[arg(long, value_delimiter = ',')]
    contexts: Vec<String>,
    /// The Ed-Fi Data Management Service's layout instead of the ODS/API's: data at
    /// /data/{namespace}/{endpoint} (no /v3), its discovery document, the OpenAPI documents listed
    /// at /metadata/specifications and the dependencies at /metadata/dependencies.
    #[arg(long)]
    dms: bool,
    /// Live tokens a client may hold, as the ODS/API's token limit: one more token request is
    /// answered 429 "Too Many Tokens" (urn:ed-fi:api:security:authentication:too-many-tokens)
    /// until one expires.
    #[arg(long, default_value_t = 15)]
    token_limit: usize,
    /// ODS/API 7.3's cursor paging beside offset paging: pageToken/pageSize, the Next-Page-Token
    /// header, GET /{resource}/partitions?number=N.
    #[arg(long)]
    cursor_paging: bool,
    /// Token lifetime in seconds.
    #[arg(long, default_value_t = 1800)]
    token_ttl: u64,
    /// Error body style: 7.2 (problem details) or 7.1 ({"message"}).
    #[arg(long, default_value = "7.2")]
    error_style: String,
    /// Delay of every data request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Extra random delay of every data request, 0..N ms.
    #[arg(long, default_value_t = 0)]
    latency_jitter_ms: u64,
    /// Share of data requests answered with one of --fault-statuses.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    #[arg(long, default_value = "429,500,503", value_delimiter = ',')]
    fault_statuses: Vec<u16>,
    /// Share of data requests whose connection is closed without an answer.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Admit at most N data requests a second, as an API gateway would: one token bucket for
    /// all data requests (any method, client, year), refilled at N a second and holding N; an
    /// empty bucket answers 429 with Retry-After. Default: no limit.
    #[arg(long, value_name = "N")]
    rate_limit: Option<f64>,
    /// Relationship-based authorization: a payload naming a student, staff member or
    /// contact/parent is refused (403) until an enrollment, staff assignment/employment/school
    /// association, or student-contact/parent association relates that person.
    #[arg(long)]
    relationship_auth: bool,
    #[arg(long, default_value_t = 0)]
    rng_seed: u64,
    /// Worker threads (default: number of cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Serve HTTPS with a self-signed certificate for 127.0.0.1 and localhost.
    #[arg(long)]
    tls_self_signed: bool,
    /// Append every issued token to FILE, one a line (for tests that look for leaked tokens).
    #[arg(long, value_name = "FILE")]
    log_tokens: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate {
            out,
            students,
            rng_seed,
        } => {
            let started = std::time::Instant::now();
            let summary = generate(&GenerateOptions {
                out_dir: out.clone(),
                students,
                rng_seed,
            })?;
            let total: u64 = summary.files.iter().map(|(_, n)| n).sum();
            for (endpoint, n) in &summary.files {
                println!("{n}\t{endpoint}");
            }
            eprintln!(
                "wrote {total} records to {} in {:.1}s",
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Serve(args) => run_serve(*args),
    }
}

fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let style = match args.error_style.as_str() {
        "7.2" | "7.3" | "7" => ErrorStyle::V72,
        "7.1" | "6.1" | "5.3" => ErrorStyle::V71,
        other => bail!("--error-style must be 7.2 or 7.1, not {other:?}"),
    };
    for (name, p) in [
        ("--fault-rate", args.fault_rate),
        ("--drop-rate", args.drop_rate),
    ] {
        if !(0.0..=1.0).contains(&p) {
            bail!("{name} must be between 0 and 1, not {p}");
        }
    }
    if let Some(n) = args.rate_limit.filter(|n| !(n.is_finite() && *n > 0.0)) {
        bail!("--rate-limit must be a number of requests a second above 0, not {n}");
    }
    let mut clients = Vec::new();
    for c in &args.client {
        clients.push(Client::parse(c).map_err(anyhow::Error::msg)?);
    }
    if clients.is_empty() {
        clients.push(Client::parse("testkey:testsecret").map_err(anyhow::Error::msg)?);
    }
    for c in &clients {
        if let Some(t) = c.tenant.as_ref().filter(|t| !args.tenants.contains(t)) {
            bail!("--client {}: tenant {t:?} is not one of --tenants", c.id);
        }
    }
    let (res_raw, resources) = seed::read_document(&args.resources_openapi)?;
    let (desc_raw, descriptors) = seed::read_document(&args.descriptors_openapi)?;
    let deps_raw = std::fs::read(&args.dependencies)
        .with_context(|| format!("cannot read {}", args.dependencies.display()))?;
    let orders = seed::dependency_orders(&deps_raw)?;
    let data_model_version = resources.root["info"]["version"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let (api, mut store) = seed::build(resources, descriptors, style);
    let profiles = load_profiles(&api, &args.profile)?;
    for c in &clients {
        for p in &c.profiles {
            if !profiles.iter().any(|x| x.name.eq_ignore_ascii_case(p)) {
                bail!("--client {}: profile {p:?} is not one of --profile", c.id);
            }
        }
    }
    let (loaded, problems) = seed::load_seed_dirs(&api, &mut store, &args.seed_dir, &orders)?;
    for p in problems.iter().take(20) {
        eprintln!("seed: {p}");
    }
    if problems.len() > 20 {
        eprintln!("seed: ... and {} more problems", problems.len() - 20);
    }
    if !args.seed_dir.is_empty() {
        eprintln!("seeded {loaded} records");
    }
    let cfg = ServeConfig {
        clients,
        token_ttl: Duration::from_secs(args.token_ttl),
        style,
        latency: Duration::from_millis(args.latency_ms),
        latency_jitter: Duration::from_millis(args.latency_jitter_ms),
        fault_rate: args.fault_rate,
        fault_statuses: args.fault_statuses.clone(),
        drop_rate: args.drop_rate,
        rng_seed: args.rng_seed,
        data_model_version,
        token_log: args.log_tokens.clone(),
        rate_limit: args.rate_limit,
        relationship_auth: args.relationship_auth,
        tenants: args.tenants.clone(),
        contexts: args.contexts.clone(),
        dms: args.dms,
        token_limit: args.token_limit,
        cursor_paging: args.cursor_paging,
        profiles,
    };
    let sb = Sandbox::new(
        api,
        store,
        Documents {
            resources: res_raw.into(),
            descriptors: desc_raw.into(),
            dependencies: deps_raw.into(),
        },
        cfg,
    );
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(t) = args.threads {
        rt.worker_threads(t.max(1));
    }
    let rt = rt.enable_all().build()?;
    let tls = if args.tls_self_signed {
        Some(edfi_sandbox::server::self_signed_tls()?)
    } else {
        None
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.bind.as_str(), args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
        let addr = listener.local_addr()?;
        let mut out = std::io::stdout();
        writeln!(out, "{scheme}://{addr}")?;
        out.flush()?;
        let warm = sb.clone();
        std::thread::spawn(move || warm.api.warm_up());
        serve(sb, listener, tls).await
    })
}

/// The profiles of `--profile NAME:FILE`, their warnings told on stderr.
fn load_profiles(api: &edfi_sandbox::store::Api, specs: &[String]) -> anyhow::Result<Vec<Profile>> {
    let mut profiles: Vec<Profile> = Vec::new();
    for spec in specs {
        let Some((name, file)) = spec
            .split_once(':')
            .filter(|(n, f)| !n.is_empty() && !f.is_empty())
        else {
            bail!("--profile {spec:?}: expected NAME:FILE");
        };
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("--profile {spec:?}: cannot read {file}"))?;
        let (profile, warnings) = Profile::from_xml(api, name, &text)
            .map_err(|e| anyhow::anyhow!("--profile {spec:?}: {e}"))?;
        for w in warnings {
            eprintln!("--profile {name}: {w}");
        }
        if profiles
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(&profile.name))
        {
            bail!("--profile {spec:?}: a profile named {name:?} is given twice");
        }
        profiles.push(profile);
    }
    Ok(profiles)
}
