package main

func root() *command {
	return &command{
		name:    "dotm",
		summary: "dotm (DevOps Trouble Map) maps what talks to what in your fleet and which alert hits which service.",
		details: `
Hosts report their listening TCP ports and established connections (dotm
agent, SSH, or this machine); Nagios, Icinga and Livestatus report alerts.
"dotm collect" stores both in Redis, "dotm render" writes a static site.

Without --redis, dotm keeps its data in an embedded store in --data-dir,
so a single host needs no Redis server.`,
		subs: []*command{
			nodesCommand(),
			configCommand(),
			collectCommand(),
			renderCommand(),
			reportCommand(),
			checkCommand(),
			exportCommand(),
			diffCommand(),
			workerCommand(),
			agentCommand(),
			demoCommand(),
			versionCommand(),
			helpCommand(),
			completionCommand(),
			manCommand(),
		},
	}
}
