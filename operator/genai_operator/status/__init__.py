"""Computing status (pure; the clock is passed in): conditions, ModelDeployment and PlacementPool status,
the ModelLoaded condition from loader containers, the events worth posting and the status write itself."""
