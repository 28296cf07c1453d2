"""Training a policy: config, env settings, PPO, collection, behavioural cloning, run folder, trainer."""
