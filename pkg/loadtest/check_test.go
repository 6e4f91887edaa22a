package loadtest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckNamesEverySetting(t *testing.T) {
	cases := []struct {
		name   string
		target string
		opts   []Option
		want   []Setting
	}{
		{"valid", "http://127.0.0.1:1/api", nil, nil},
		{"relative target", "/api", nil, []Setting{SettingTarget}},
		{"ftp target", "ftp://example/api", nil, []Setting{SettingTarget}},
		{"bad method", "http://x/", []Option{WithMethod("GE T")}, []Setting{SettingMethod}},
		{"all numbers wrong", "http://x/", []Option{WithRate(-1), WithDuration(0), WithWorkers(0), WithMaxWorkers(0), WithTimeout(-time.Second)},
			[]Setting{SettingRate, SettingDuration, SettingWorkers, SettingMaxWorkers, SettingTimeout}},
		{"give-up", "http://x/", []Option{WithGiveUp(-1, 0)}, []Setting{SettingGiveUp}},
		{"progress interval", "http://x/", []Option{WithProgress(&strings.Builder{}, false), WithProgressInterval(0)}, []Setting{SettingProgressInterval}},
		{"token with a space", "http://x/", []Option{WithTokens("ok", "secret value")}, []Setting{SettingTokens}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.target, tc.opts...)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			oe, ok := errors.AsType[*OptionsError](err)
			if !ok {
				t.Fatalf("Check = %v, want *OptionsError", err)
			}
			var got []Setting
			for _, p := range oe.Problems {
				got = append(got, p.Setting)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("settings %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("settings %v, want %v", got, tc.want)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error echoes a token: %v", err)
			}
		})
	}
}
