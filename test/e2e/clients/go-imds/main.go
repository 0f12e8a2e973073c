// An unmodified AWS SDK for Go v2 program, as it would run on EC2: the default credential chain,
// the region from IMDS, and the SDK's own feature/ec2/imds client. Built by test/support/go-client.ts
// from Debian's SDK sources (GOPATH mode, no module proxy); run only inside the suite's namespace.
//
// Usage: go-imds <STS endpoint URL>. Prints one JSON object.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

type result struct {
	Arn                string `json:"arn"`
	CredentialSource   string `json:"credentialSource"`
	Region             string `json:"region"`
	ImdsRegion         string `json:"imdsRegion"`
	InstanceID         string `json:"instanceId"`
	DocumentInstanceID string `json:"documentInstanceId"`
	DocumentRegion     string `json:"documentRegion"`
	DocumentAccountID  string `json:"documentAccountId"`
}

func run(stsEndpoint string) (*result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithEC2IMDSRegion())
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.EndpointResolver = sts.EndpointResolverFromURL(stsEndpoint)
	})
	identity, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("sts: %w", err)
	}

	metadata := imds.NewFromConfig(cfg)
	region, err := metadata.GetRegion(ctx, &imds.GetRegionInput{})
	if err != nil {
		return nil, fmt.Errorf("imds region: %w", err)
	}
	instanceID, err := metadata.GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"})
	if err != nil {
		return nil, fmt.Errorf("imds instance-id: %w", err)
	}
	defer instanceID.Content.Close()
	id, err := io.ReadAll(instanceID.Content)
	if err != nil {
		return nil, fmt.Errorf("imds instance-id: %w", err)
	}
	document, err := metadata.GetInstanceIdentityDocument(ctx, &imds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		return nil, fmt.Errorf("imds identity document: %w", err)
	}
	return &result{
		Arn:                *identity.Arn,
		CredentialSource:   creds.Source,
		Region:             cfg.Region,
		ImdsRegion:         region.Region,
		InstanceID:         string(id),
		DocumentInstanceID: document.InstanceID,
		DocumentRegion:     document.Region,
		DocumentAccountID:  document.AccountID,
	}, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-imds <STS endpoint URL>")
		os.Exit(2)
	}
	out, err := run(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
